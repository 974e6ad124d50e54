package imaptest

import (
	"bufio"
	"fmt"
	"net"
	"os"
	"os/exec"
	"os/user"
	"path/filepath"
	"strconv"
	"strings"
	"sync"
	"syscall"
	"testing"
	"time"
)

// TestDovecot proves the runner against the reference: a private Dovecot
// (Debian's dovecot-imapd) on a loopback port with its stock capabilities,
// passwd-file users and maildir in a temporary folder. Dovecot passes the
// scripts, so every script must pass, or be skipped for a capability this
// Dovecot does not offer.
func TestDovecot(t *testing.T) {
	dir := Dir(t)
	d := needDovecot(t, "")
	Run(t, dir, Target{Addr: d.addr, NewAccount: d.newAccount, Parallel: 16})
	if t.Failed() {
		t.Logf("dovecot.log:\n%s", d.logTail(6000))
	}
}

// dovecotURLAUTHExpected are the URLAUTH scripts Dovecot fails, and why.
var dovecotURLAUTHExpected = map[string]string{
	"urlauth-binary": "Dovecot 2.3.19 panics on URLFETCH (url BINARY BODYPARTSTRUCTURE) of a part of a multipart " +
		"message (assertion !cmd->executing in client_command_free) and drops the connection",
	"urlauth2": "cannot pass under imaptest's own setup: the script starts selected with no messages " +
		"(messages: defaults to 0) yet FETCHes 1:2, and its second connection logs in as another user, " +
		"who has no test mailbox to SELECT",
}

// TestDovecotURLAUTH runs the URLAUTH scripts against a Dovecot that offers
// URLAUTH (off in the stock configuration, so TestDovecot skips them).
func TestDovecotURLAUTH(t *testing.T) {
	Dir(t) // skip before starting Dovecot when the scripts are missing
	d := needDovecot(t, "imap_urlauth_host = *\nmail_attribute_dict = file:%h/dovecot-attributes\n")
	RunScripts(t, Target{Addr: d.addr, NewAccount: d.newAccount, Expected: dovecotURLAUTHExpected},
		func(name string) bool { return strings.HasPrefix(name, "urlauth") })
	if t.Failed() {
		t.Logf("dovecot.log:\n%s", d.logTail(6000))
	}
}

func TestMain(m *testing.M) {
	code := m.Run()
	dovecotsMu.Lock()
	for _, d := range dovecots {
		if d.inst != nil {
			d.inst.stop()
		}
	}
	dovecotsMu.Unlock()
	os.Exit(code)
}

type dovecotStart struct {
	inst *dovecot
	skip string
	err  error
}

var (
	dovecotsMu sync.Mutex
	dovecots   = map[string]*dovecotStart{}
)

// needDovecot returns a running private Dovecot with the extra settings,
// started once per test binary; it skips t when Dovecot is not installed.
func needDovecot(t *testing.T, extra string) *dovecot {
	t.Helper()
	dovecotsMu.Lock()
	st, ok := dovecots[extra]
	if !ok {
		st = &dovecotStart{}
		st.inst, st.skip, st.err = launchDovecot(extra)
		dovecots[extra] = st
	}
	dovecotsMu.Unlock()
	if st.skip != "" {
		t.Skip(st.skip)
	}
	if st.err != nil {
		t.Fatal(st.err)
	}
	return st.inst
}

type dovecot struct {
	addr     string
	dir      string
	cmd      *exec.Cmd
	exited   chan error
	out      *os.File
	mu       sync.Mutex
	next     int
	users    int
	password string
}

func (d *dovecot) newAccount() (Account, error) {
	d.mu.Lock()
	defer d.mu.Unlock()
	// Reusing an account after all have been handed out is safe: a
	// script's setup deletes what an earlier one left.
	d.next = d.next%d.users + 1
	// No "@domain": imaptest builds IMAP URLs as imap://$username@$domain/,
	// and Dovecot's URLAUTH wants the URL's user to be the login name.
	return Account{User: fmt.Sprintf("user%03d", d.next), Password: d.password}, nil
}

func (d *dovecot) stop() {
	_ = d.cmd.Process.Signal(syscall.SIGTERM)
	select {
	case <-d.exited:
	case <-time.After(10 * time.Second):
		_ = d.cmd.Process.Kill()
		<-d.exited
	}
	d.out.Close()
	os.RemoveAll(d.dir)
}

func (d *dovecot) logTail(n int) string {
	var sb strings.Builder
	for _, f := range []string{"dovecot.out", "dovecot.log"} {
		if b, err := os.ReadFile(filepath.Join(d.dir, f)); err == nil && len(b) > 0 {
			s := string(b)
			if len(s) > n {
				s = "…" + s[len(s)-n:]
			}
			fmt.Fprintf(&sb, "%s:\n%s\n", f, s)
		}
	}
	return sb.String()
}

// launchDovecot starts Dovecot in the foreground with its own configuration
// in a temporary folder: IMAP on a free loopback port, no TLS, passwd-file
// users with plain passwords, maildir homes. Mail processes run as nobody
// when we are root, else everything runs as us.
func launchDovecot(extra string) (*dovecot, string, error) {
	bin, err := exec.LookPath("dovecot")
	if err != nil {
		bin = "/usr/sbin/dovecot"
	}
	if _, err := os.Stat(bin); err != nil {
		return nil, "dovecot not installed (apt-get install dovecot-imapd)", nil
	}
	if _, err := os.Stat("/usr/lib/dovecot/imap"); err != nil {
		return nil, "dovecot-imapd not installed (apt-get install dovecot-imapd)", nil
	}

	// World-readable: Dovecot's login, auth and mail processes run as
	// other users.
	tmp, err := os.MkdirTemp("", "letterbox-dovecot-")
	if err != nil {
		return nil, "", err
	}
	fail := func(err error) (*dovecot, string, error) {
		os.RemoveAll(tmp)
		return nil, "", err
	}
	if err := os.Chmod(tmp, 0o755); err != nil {
		return fail(err)
	}
	uid, gid := os.Getuid(), os.Getgid()
	runAs := ""
	if uid == 0 {
		u, err := user.Lookup("nobody")
		if err != nil {
			os.RemoveAll(tmp)
			return nil, fmt.Sprintf("no user nobody to run Dovecot's mail processes: %v", err), nil
		}
		uid, _ = strconv.Atoi(u.Uid)
		gid, _ = strconv.Atoi(u.Gid)
	} else {
		u, err := user.Current()
		if err != nil {
			return fail(err)
		}
		g, err := user.LookupGroupId(strconv.Itoa(gid))
		if err != nil {
			return fail(err)
		}
		runAs = fmt.Sprintf("default_internal_user = %s\ndefault_login_user = %s\ndefault_internal_group = %s\n",
			u.Username, u.Username, g.Name)
	}
	home := filepath.Join(tmp, "home")
	if err := os.Mkdir(home, 0o755); err != nil {
		return fail(err)
	}
	if os.Getuid() == 0 {
		if err := os.Chown(home, uid, gid); err != nil {
			return fail(err)
		}
	}

	d := &dovecot{dir: tmp, users: 500, password: "imaptest-secret"}
	var pw strings.Builder
	for i := 1; i <= d.users; i++ {
		name := fmt.Sprintf("user%03d", i)
		fmt.Fprintf(&pw, "%s:{PLAIN}%s:%d:%d::%s::\n", name, d.password, uid, gid, filepath.Join(home, name))
	}
	if err := os.WriteFile(filepath.Join(tmp, "passwd"), []byte(pw.String()), 0o644); err != nil {
		return fail(err)
	}

	l, err := net.Listen("tcp", "127.0.0.1:0")
	if err != nil {
		return fail(err)
	}
	port := l.Addr().(*net.TCPAddr).Port
	l.Close()
	d.addr = net.JoinHostPort("127.0.0.1", strconv.Itoa(port))

	conf := fmt.Sprintf(`base_dir = %[1]s/run
state_dir = %[1]s/state
log_path = %[1]s/dovecot.log
protocols = imap
listen = 127.0.0.1
ssl = no
disable_plaintext_auth = no
auth_mechanisms = plain login
first_valid_uid = 1
mail_location = maildir:~/Maildir
mail_max_userip_connections = 100
%[3]s
%[4]s
passdb {
  driver = passwd-file
  args = scheme=PLAIN %[1]s/passwd
}
userdb {
  driver = passwd-file
  args = %[1]s/passwd
}
service imap-login {
  inet_listener imap {
    address = 127.0.0.1
    port = %[2]d
  }
  inet_listener imaps {
    port = 0
  }
}
`, tmp, port, runAs, extra)
	confPath := filepath.Join(tmp, "dovecot.conf")
	if err := os.WriteFile(confPath, []byte(conf), 0o644); err != nil {
		return fail(err)
	}

	d.out, err = os.Create(filepath.Join(tmp, "dovecot.out"))
	if err != nil {
		return fail(err)
	}
	d.cmd = exec.Command(bin, "-F", "-c", confPath)
	d.cmd.Stdout, d.cmd.Stderr = d.out, d.out
	if err := d.cmd.Start(); err != nil {
		d.out.Close()
		return fail(fmt.Errorf("starting dovecot: %w", err))
	}
	d.exited = make(chan error, 1)
	go func() { d.exited <- d.cmd.Wait() }()

	// Wait for the banner.
	deadline := time.Now().Add(15 * time.Second)
	for {
		select {
		case err := <-d.exited:
			logs := d.logTail(4000)
			d.out.Close()
			return fail(fmt.Errorf("dovecot exited: %v\n%s", err, logs))
		default:
		}
		c, err := net.DialTimeout("tcp", d.addr, time.Second)
		if err == nil {
			_ = c.SetReadDeadline(time.Now().Add(5 * time.Second))
			line, rerr := bufio.NewReader(c).ReadString('\n')
			c.Close()
			if rerr == nil && strings.HasPrefix(line, "* OK") {
				return d, "", nil
			}
			err = rerr
		}
		if time.Now().After(deadline) {
			logs := d.logTail(4000)
			d.stop()
			return nil, "", fmt.Errorf("dovecot did not answer on %s: %v\n%s", d.addr, err, logs)
		}
		time.Sleep(50 * time.Millisecond)
	}
}
