package imap

// handler is one command: the states it is allowed in and what runs it.
// run parses the arguments itself (after the command name) and returns the
// text of the tagged OK ("" for "<CMD> completed") or an error, which the
// connection maps to NO or BAD.
type handler struct {
	states state
	run    func(c *conn, tag string) (string, error)
	// seqSensitive: FETCH, STORE, SEARCH and friends; in their non-UID form
	// no EXPUNGE may be sent with them (RFC 9051 section 7.5.1).
	seqSensitive bool
	// noUpdates: the command reports mailbox changes itself.
	noUpdates bool
}

var commands map[string]handler

func init() {
	commands = map[string]handler{
		// Any state (RFC 9051 section 6.1).
		"CAPABILITY": {states: anyState, run: cmdCapability},
		"NOOP":       {states: anyState, run: cmdNoop, noUpdates: true},
		"LOGOUT":     {states: anyState, run: cmdLogout, noUpdates: true},
		"ID":         {states: anyState, run: cmdID},
		// Not authenticated (6.2).
		"STARTTLS":     {states: stateNotAuth, run: cmdStartTLS},
		"LOGIN":        {states: stateNotAuth, run: cmdLogin},
		"AUTHENTICATE": {states: stateNotAuth, run: cmdAuthenticate},
		// Authenticated (6.3).
		"ENABLE":         {states: authed, run: cmdEnable},
		"SELECT":         {states: authed, run: cmdSelect, noUpdates: true},
		"EXAMINE":        {states: authed, run: cmdSelect, noUpdates: true},
		"CREATE":         {states: authed, run: cmdCreate},
		"DELETE":         {states: authed, run: cmdDelete},
		"RENAME":         {states: authed, run: cmdRename},
		"SUBSCRIBE":      {states: authed, run: cmdSubscribe},
		"UNSUBSCRIBE":    {states: authed, run: cmdUnsubscribe},
		"LIST":           {states: authed, run: cmdList},
		"LSUB":           {states: authed, run: cmdLsub},
		"NAMESPACE":      {states: authed, run: cmdNamespace},
		"STATUS":         {states: authed, run: cmdStatus},
		"APPEND":         {states: authed, run: cmdAppend},
		"IDLE":           {states: authed, run: cmdIdle, noUpdates: true},
		"UNAUTHENTICATE": {states: authed, run: cmdUnauthenticate, noUpdates: true},
		// Selected (6.4).
		"CHECK":    {states: stateSelected, run: cmdCheck, noUpdates: true},
		"CLOSE":    {states: stateSelected, run: cmdClose, noUpdates: true},
		"UNSELECT": {states: stateSelected, run: cmdUnselect, noUpdates: true},
		"EXPUNGE":  {states: stateSelected, run: cmdExpunge},
		"SEARCH":   {states: stateSelected, run: cmdSearch, seqSensitive: true},
		"FETCH":    {states: stateSelected, run: cmdFetch, seqSensitive: true},
		"STORE":    {states: stateSelected, run: cmdStore, seqSensitive: true},
		"COPY":     {states: stateSelected, run: cmdCopy},
		"MOVE":     {states: stateSelected, run: cmdMove},
	}
}
