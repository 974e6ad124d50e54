package sieve

import "testing"

func TestImap4flags(t *testing.T) {
	xCases(t, xInput{}, []xCase{
		// RFC 5232 section 3: setflag replaces, addflag adds (no
		// duplicates, any case), removeflag removes.
		{`require "imap4flags"; setflag "\\Seen"; addflag ["\\seen", "$Work Big"]; removeflag "big";`,
			`+keep[\Seen $Work]`},
		// Invalid flags are not stored.
		{`require "imap4flags"; addflag ["\\Bogus", "ok", "a(b"];`, "+keep[ok]"},
		// keep and fileinto take the internal variable, or :flags.
		{`require ["imap4flags","fileinto"]; addflag "\\Flagged"; fileinto "A"; fileinto :flags "x y" "B";`,
			`A[\Flagged] B[x y]`},
		// Section 4 example: hasflag on the internal variable and :count.
		{`require ["imap4flags","relational","comparator-i;ascii-numeric","fileinto"];
		  addflag ["\\Seen", "Junk"];
		  if hasflag :contains "junk" { fileinto "J"; }
		  if hasflag :count "ge" :comparator "i;ascii-numeric" "2" { fileinto "Two"; }`,
			`J[\Seen Junk] Two[\Seen Junk]`},
		// Section 3: the variable forms.
		{`require ["imap4flags","variables","fileinto"];
		  set "MyFlags" "A A b"; addflag "MyFlags" "c"; removeflag "myflags" "B";
		  if hasflag "MyFlags" "a" { fileinto "${myflags}"; }`, "A c"},
		// A key listing several flags matches any of them.
		{`require ["imap4flags","fileinto"]; setflag "b";
		  if hasflag "a b" { fileinto "yes"; }`, "yes[b]"},
	})
	for _, src := range []string{
		`require "imap4flags"; setflag "v" "a";`, // variable name without variables
		`require ["imap4flags","variables"]; setflag ["a","b"] "c";`,
		`require "imap4flags"; setflag;`,
		`require "imap4flags"; if setflag "a" {}`,
		`require "imap4flags"; setflag 1;`,
	} {
		if _, err := Compile("t", []byte(src), nil); err == nil {
			t.Errorf("%s: compiled", src)
		}
	}
}
