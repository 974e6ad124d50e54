package managesieve

import (
	"errors"
	"strconv"

	"letterbox/storage"
)

// command is one ManageSieve command. auth: only after AUTHENTICATE;
// preAuth: only before it; neither: in both states.
type command struct {
	run     func(c *conn, args []arg) error
	auth    bool
	preAuth bool
}

var commands = map[string]command{
	"CAPABILITY":     {run: cmdCapability},
	"LOGOUT":         {run: cmdLogout},
	"NOOP":           {run: cmdNoop},
	"STARTTLS":       {run: cmdStartTLS, preAuth: true},
	"AUTHENTICATE":   {run: cmdAuthenticate, preAuth: true},
	"UNAUTHENTICATE": {run: cmdUnauthenticate, auth: true},
	"HAVESPACE":      {run: cmdHaveSpace, auth: true},
	"PUTSCRIPT":      {run: cmdPutScript, auth: true},
	"CHECKSCRIPT":    {run: cmdCheckScript, auth: true},
	"LISTSCRIPTS":    {run: cmdListScripts, auth: true},
	"SETACTIVE":      {run: cmdSetActive, auth: true},
	"GETSCRIPT":      {run: cmdGetScript, auth: true},
	"DELETESCRIPT":   {run: cmdDeleteScript, auth: true},
	"RENAMESCRIPT":   {run: cmdRenameScript, auth: true},
}

// stringArgs checks that args are n strings (atoms are taken as strings too:
// lax clients send names unquoted) and returns them.
func stringArgs(args []arg, n int, usage string) ([]string, error) {
	if len(args) != n {
		return nil, no("", "%s", usage)
	}
	out := make([]string, n)
	for i, a := range args {
		out[i] = a.s
	}
	return out, nil
}

func cmdCapability(c *conn, args []arg) error {
	if len(args) != 0 {
		return no("", "CAPABILITY takes no arguments")
	}
	c.writeCapabilities()
	return c.ok("", "Capability completed")
}

// cmdLogout: RFC 5804 section 2.3 with erratum 7825, an OK and the end.
func cmdLogout(c *conn, args []arg) error {
	c.done = true
	return c.ok("", "Logout completed")
}

// cmdNoop echoes its optional argument in a TAG response code (RFC 5804
// section 2.13), which clients use to match replies to commands.
func cmdNoop(c *conn, args []arg) error {
	switch len(args) {
	case 0:
		return c.ok("", "Done")
	case 1:
		return c.ok("TAG "+encodeString(args[0].s), "Done")
	}
	return no("", "NOOP takes at most one argument")
}

// cmdHaveSpace says whether a script of this name and size would be
// stored (RFC 5804 section 2.5).
func cmdHaveSpace(c *conn, args []arg) error {
	if len(args) != 2 || !args[1].atom {
		return no("", "HAVESPACE takes a script name and a number")
	}
	size, ok := parseNumber(args[1].s)
	if !ok {
		return no("", "HAVESPACE: the size must be a number from 0 to %d", maxNumber)
	}
	if err := c.checkSize(size); err != nil {
		return err
	}
	if err := c.checkCount(args[0].s); err != nil {
		return err
	}
	return c.ok("", "Putscript would succeed")
}

func (c *conn) checkSize(size int64) error {
	if limit := c.srv.maxScriptSize(); size > int64(limit) {
		return no("QUOTA/MAXSIZE", "Script too big: at most %d octets", limit)
	}
	return nil
}

// checkCount refuses a new script name past MaxScripts. PUTSCRIPT checks
// again inside its write (storage.PutSieveScriptMax).
func (c *conn) checkCount(name string) error {
	if c.srv.MaxScripts <= 0 {
		return nil
	}
	list, err := c.srv.Store.SieveScripts(c.ctx, c.acct)
	if err != nil {
		return err
	}
	for _, sc := range list {
		if sc.Name == name {
			return nil
		}
	}
	if len(list) >= c.srv.MaxScripts {
		return no("QUOTA/MAXSCRIPTS", "Too many scripts: at most %d", c.srv.MaxScripts)
	}
	return nil
}

// compile runs the injected compiler. A refusal is a NO whose text is the
// compiler's message (line and column included); ok carries warnings.
func (c *conn) compile(name, src string) (warnings string, err error) {
	if c.srv.Compile == nil {
		return "", nil
	}
	warnings, err = c.srv.Compile(name, []byte(src))
	if err != nil {
		return "", no("", "%s", err.Error())
	}
	return warnings, nil
}

// okWarnings is OK, or OK (WARNINGS) with the compiler's warnings (RFC
// 5804 section 1.3).
func (c *conn) okWarnings(warnings, text string) error {
	if warnings != "" {
		return c.ok("WARNINGS", warnings)
	}
	return c.ok("", text)
}

// cmdPutScript stores a script that compiles (RFC 5804 section 2.6).
func cmdPutScript(c *conn, args []arg) error {
	a, err := stringArgs(args, 2, "PUTSCRIPT takes a script name and a script")
	if err != nil {
		return err
	}
	name, src := a[0], a[1]
	if err := c.checkSize(int64(len(src))); err != nil {
		return err
	}
	warnings, err := c.compile(name, src)
	if err != nil {
		return err
	}
	err = c.srv.Store.PutSieveScriptMax(c.ctx, c.acct, name, src, c.srv.MaxScripts)
	switch {
	case errors.Is(err, storage.ErrOverQuota):
		return no("QUOTA/MAXSCRIPTS", "Too many scripts: at most %d", c.srv.MaxScripts)
	case errors.Is(err, storage.ErrInvalidName):
		return no("", "Invalid script name")
	case err != nil:
		return err
	}
	c.log.Info("script stored", "script", name, "size", len(src))
	return c.okWarnings(warnings, "Script stored")
}

// cmdCheckScript compiles a script without storing it (RFC 5804 section
// 2.12).
func cmdCheckScript(c *conn, args []arg) error {
	a, err := stringArgs(args, 1, "CHECKSCRIPT takes a script")
	if err != nil {
		return err
	}
	if err := c.checkSize(int64(len(a[0]))); err != nil {
		return err
	}
	warnings, err := c.compile("", a[0])
	if err != nil {
		return err
	}
	return c.okWarnings(warnings, "Script is valid")
}

// cmdListScripts: one line per script, the active one marked (RFC 5804
// section 2.7).
func cmdListScripts(c *conn, args []arg) error {
	if len(args) != 0 {
		return no("", "LISTSCRIPTS takes no arguments")
	}
	list, err := c.srv.Store.SieveScripts(c.ctx, c.acct)
	if err != nil {
		return err
	}
	for _, sc := range list {
		c.bw.WriteString(encodeString(sc.Name))
		if sc.Active {
			c.bw.WriteString(" ACTIVE")
		}
		c.bw.WriteString("\r\n")
	}
	return c.ok("", "Listscripts completed")
}

// cmdSetActive activates a script, or none for "" (RFC 5804 section 2.8).
// The script is compiled again first: the compiler may have changed since
// it was stored, and a script that no longer compiles must not become the
// one that filters mail.
func cmdSetActive(c *conn, args []arg) error {
	a, err := stringArgs(args, 1, "SETACTIVE takes a script name")
	if err != nil {
		return err
	}
	name := a[0]
	if name != "" {
		sc, err := c.srv.Store.SieveScript(c.ctx, c.acct, name)
		if errors.Is(err, storage.ErrNotFound) {
			return no("NONEXISTENT", "There is no script by that name")
		}
		if err != nil {
			return err
		}
		if _, err := c.compile(name, sc.Content); err != nil {
			return err
		}
	}
	err = c.srv.Store.ActivateSieveScript(c.ctx, c.acct, name)
	if errors.Is(err, storage.ErrNotFound) {
		return no("NONEXISTENT", "There is no script by that name")
	}
	if err != nil {
		return err
	}
	c.log.Info("script activated", "script", name)
	return c.ok("", "Active script set")
}

// cmdGetScript sends a script as a literal (RFC 5804 section 2.9).
func cmdGetScript(c *conn, args []arg) error {
	a, err := stringArgs(args, 1, "GETSCRIPT takes a script name")
	if err != nil {
		return err
	}
	sc, err := c.srv.Store.SieveScript(c.ctx, c.acct, a[0])
	if errors.Is(err, storage.ErrNotFound) {
		return no("NONEXISTENT", "There is no script by that name")
	}
	if err != nil {
		return err
	}
	c.bw.WriteString("{" + strconv.Itoa(len(sc.Content)) + "}\r\n")
	c.bw.WriteString(sc.Content)
	c.bw.WriteString("\r\n")
	return c.ok("", "Getscript completed")
}

// cmdDeleteScript deletes an inactive script (RFC 5804 section 2.10).
func cmdDeleteScript(c *conn, args []arg) error {
	a, err := stringArgs(args, 1, "DELETESCRIPT takes a script name")
	if err != nil {
		return err
	}
	err = c.srv.Store.DeleteSieveScript(c.ctx, c.acct, a[0])
	switch {
	case errors.Is(err, storage.ErrNotFound):
		return no("NONEXISTENT", "There is no script by that name")
	case errors.Is(err, storage.ErrActiveScript):
		return no("ACTIVE", "The active script cannot be deleted; SETACTIVE \"\" first")
	case err != nil:
		return err
	}
	c.log.Info("script deleted", "script", a[0])
	return c.ok("", "Script deleted")
}

// cmdRenameScript renames a script; the active one stays active (RFC 5804
// section 2.11).
func cmdRenameScript(c *conn, args []arg) error {
	a, err := stringArgs(args, 2, "RENAMESCRIPT takes the old and the new script name")
	if err != nil {
		return err
	}
	from, to := a[0], a[1]
	if from == to {
		// Storage would rename it to itself; the RFC's answer for a new
		// name that exists is ALREADYEXISTS.
		if _, err := c.srv.Store.SieveScript(c.ctx, c.acct, from); err != nil {
			if errors.Is(err, storage.ErrNotFound) {
				return no("NONEXISTENT", "There is no script by that name")
			}
			return err
		}
		return no("ALREADYEXISTS", "A script by the new name exists")
	}
	err = c.srv.Store.RenameSieveScript(c.ctx, c.acct, from, to)
	switch {
	case errors.Is(err, storage.ErrNotFound):
		return no("NONEXISTENT", "There is no script by that name")
	case errors.Is(err, storage.ErrExists):
		return no("ALREADYEXISTS", "A script by the new name exists")
	case errors.Is(err, storage.ErrInvalidName):
		return no("", "Invalid script name")
	case err != nil:
		return err
	}
	c.log.Info("script renamed", "script", from, "to", to)
	return c.ok("", "Script renamed")
}
