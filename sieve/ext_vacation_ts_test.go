package sieve

import (
	"strings"
	"time"
)

// Pigeonhole's vacation settings, mapped for the testsuite runner
// (test_config_set in testsuite_ext_test.go).
func init() {
	dur := func(f func(o *Options) *time.Duration, zeroIsNone bool) func(o *Options, v string) bool {
		return func(o *Options, v string) bool {
			d, ok := tsDuration(v)
			if d == 0 && zeroIsNone && strings.TrimSpace(v) != "" {
				d = -1
			}
			*f(o) = d
			return ok
		}
	}
	boolean := func(f func(o *Options) *bool) func(o *Options, v string) bool {
		return func(o *Options, v string) bool {
			v = strings.ToLower(strings.TrimSpace(v))
			*f(o) = v == "yes" || v == "true"
			return v == "" || v == "yes" || v == "no" || v == "true" || v == "false"
		}
	}
	tsSettings["sieve_vacation_min_period"] = dur(func(o *Options) *time.Duration { return &o.Vacation.MinPeriod }, true)
	tsSettings["sieve_vacation_max_period"] = dur(func(o *Options) *time.Duration { return &o.Vacation.MaxPeriod }, false)
	tsSettings["sieve_vacation_default_period"] = dur(func(o *Options) *time.Duration { return &o.Vacation.DefaultPeriod }, false)
	tsSettings["sieve_vacation_default_subject"] = func(o *Options, v string) bool { o.Vacation.DefaultSubject = v; return true }
	tsSettings["sieve_vacation_default_subject_template"] = func(o *Options, v string) bool {
		o.Vacation.DefaultSubjectTemplate = v
		return true
	}
	tsSettings["sieve_vacation_use_original_recipient"] = boolean(func(o *Options) *bool { return &o.Vacation.UseOriginalRecipient })
	tsSettings["sieve_vacation_dont_check_recipient"] = boolean(func(o *Options) *bool { return &o.Vacation.DontCheckRecipient })
	tsSettings["sieve_vacation_check_recipient"] = func(o *Options, v string) bool {
		v = strings.ToLower(strings.TrimSpace(v))
		o.Vacation.DontCheckRecipient = v == "no" || v == "false"
		return true
	}
	tsSettings["sieve_vacation_send_from_recipient"] = boolean(func(o *Options) *bool { return &o.Vacation.SendFromRecipient })
	tsSettings["sieve_vacation_to_header_ignore_envelope"] = boolean(func(o *Options) *bool { return &o.Vacation.ToHeaderIgnoreEnvelope })
	tsSettings["sieve_user_email"] = func(o *Options, v string) bool { o.UserEmail = v; return true }
}
