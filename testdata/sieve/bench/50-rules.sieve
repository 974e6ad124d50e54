# 50 rules of the kinds users write: header, address, body and regex tests.
# None of them matches the messages `letterbox bench lmtp` sends, so every
# rule is evaluated for every delivery (the worst case), then the implicit
# keep files the message in INBOX.
require ["fileinto", "body", "regex", "imap4flags", "variables", "relational", "comparator-i;ascii-numeric"];

if header :contains "subject" ["newsletter-0", "promo code 0"] { fileinto "Lists/news0"; stop; }
if header :contains "subject" ["newsletter-1", "promo code 1"] { fileinto "Lists/news1"; stop; }
if header :contains "subject" ["newsletter-2", "promo code 2"] { fileinto "Lists/news2"; stop; }
if header :contains "subject" ["newsletter-3", "promo code 3"] { fileinto "Lists/news3"; stop; }
if header :contains "subject" ["newsletter-4", "promo code 4"] { fileinto "Lists/news4"; stop; }
if header :contains "subject" ["newsletter-5", "promo code 5"] { fileinto "Lists/news5"; stop; }
if header :contains "subject" ["newsletter-6", "promo code 6"] { fileinto "Lists/news6"; stop; }
if header :contains "subject" ["newsletter-7", "promo code 7"] { fileinto "Lists/news7"; stop; }
if header :contains "subject" ["newsletter-8", "promo code 8"] { fileinto "Lists/news8"; stop; }
if header :contains "subject" ["newsletter-9", "promo code 9"] { fileinto "Lists/news9"; stop; }
if header :contains "subject" ["newsletter-10", "promo code 10"] { fileinto "Lists/news10"; stop; }
if header :contains "subject" ["newsletter-11", "promo code 11"] { fileinto "Lists/news11"; stop; }
if header :contains "subject" ["newsletter-12", "promo code 12"] { fileinto "Lists/news12"; stop; }
if header :contains "subject" ["newsletter-13", "promo code 13"] { fileinto "Lists/news13"; stop; }
if header :contains "subject" ["newsletter-14", "promo code 14"] { fileinto "Lists/news14"; stop; }
if address :domain :is ["from", "sender"] "list0.example.org" { fileinto "Lists/list0"; stop; }
if address :domain :is ["from", "sender"] "list1.example.org" { fileinto "Lists/list1"; stop; }
if address :domain :is ["from", "sender"] "list2.example.org" { fileinto "Lists/list2"; stop; }
if address :domain :is ["from", "sender"] "list3.example.org" { fileinto "Lists/list3"; stop; }
if address :domain :is ["from", "sender"] "list4.example.org" { fileinto "Lists/list4"; stop; }
if address :domain :is ["from", "sender"] "list5.example.org" { fileinto "Lists/list5"; stop; }
if address :domain :is ["from", "sender"] "list6.example.org" { fileinto "Lists/list6"; stop; }
if address :domain :is ["from", "sender"] "list7.example.org" { fileinto "Lists/list7"; stop; }
if address :domain :is ["from", "sender"] "list8.example.org" { fileinto "Lists/list8"; stop; }
if address :domain :is ["from", "sender"] "list9.example.org" { fileinto "Lists/list9"; stop; }
if address :domain :is ["from", "sender"] "list10.example.org" { fileinto "Lists/list10"; stop; }
if address :domain :is ["from", "sender"] "list11.example.org" { fileinto "Lists/list11"; stop; }
if address :domain :is ["from", "sender"] "list12.example.org" { fileinto "Lists/list12"; stop; }
if address :domain :is ["from", "sender"] "list13.example.org" { fileinto "Lists/list13"; stop; }
if address :domain :is ["from", "sender"] "list14.example.org" { fileinto "Lists/list14"; stop; }
if header :regex "x-mailing-list" "^<?list-0[.-][a-z]+@" { fileinto "Lists/ml0"; stop; }
if header :regex "x-mailing-list" "^<?list-1[.-][a-z]+@" { fileinto "Lists/ml1"; stop; }
if header :regex "x-mailing-list" "^<?list-2[.-][a-z]+@" { fileinto "Lists/ml2"; stop; }
if header :regex "x-mailing-list" "^<?list-3[.-][a-z]+@" { fileinto "Lists/ml3"; stop; }
if header :regex "x-mailing-list" "^<?list-4[.-][a-z]+@" { fileinto "Lists/ml4"; stop; }
if header :regex "x-mailing-list" "^<?list-5[.-][a-z]+@" { fileinto "Lists/ml5"; stop; }
if header :regex "x-mailing-list" "^<?list-6[.-][a-z]+@" { fileinto "Lists/ml6"; stop; }
if header :regex "x-mailing-list" "^<?list-7[.-][a-z]+@" { fileinto "Lists/ml7"; stop; }
if header :regex "x-mailing-list" "^<?list-8[.-][a-z]+@" { fileinto "Lists/ml8"; stop; }
if header :regex "x-mailing-list" "^<?list-9[.-][a-z]+@" { fileinto "Lists/ml9"; stop; }
if body :text :contains ["unsubscribe-token-0", "lottery winner 0"] { fileinto "Junk"; stop; }
if body :text :contains ["unsubscribe-token-1", "lottery winner 1"] { fileinto "Junk"; stop; }
if body :text :contains ["unsubscribe-token-2", "lottery winner 2"] { fileinto "Junk"; stop; }
if body :text :contains ["unsubscribe-token-3", "lottery winner 3"] { fileinto "Junk"; stop; }
if body :text :contains ["unsubscribe-token-4", "lottery winner 4"] { fileinto "Junk"; stop; }
if body :text :contains ["unsubscribe-token-5", "lottery winner 5"] { fileinto "Junk"; stop; }
if header :value "ge" :comparator "i;ascii-numeric" "x-spam-score-0" "10" { fileinto "Junk"; stop; }
if header :value "ge" :comparator "i;ascii-numeric" "x-spam-score-1" "10" { fileinto "Junk"; stop; }
if header :matches "list-id" "*<*.example.net>" { set "list" "${2}"; fileinto "Lists/${list}"; stop; }
if anyof (header :contains "x-priority" "1", address :localpart :is "from" "ceo") { addflag "\\Flagged"; }
