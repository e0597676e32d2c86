// FETCH's message model (sections, ENVELOPE, BODYSTRUCTURE), FETCH item
// parsing and SEARCH keys, on fixed messages. I/O-free.
#include "engine/imap/command_parser.h"
#include "engine/imap/envelope.h"
#include "engine/imap/fetch_items.h"
#include "engine/imap/mime_message.h"
#include "engine/imap/search_query.h"
#include "gtest/gtest.h"

namespace salvo::imap {
namespace {

const char kReport[] =
    "From: \"Mail Delivery\" <MAILER-DAEMON@mx.example.net>\r\n"
    "To: bounces@salvo.test, Ops <ops@salvo.test>\r\n"
    "Subject: Undelivered\r\n"
    "X-Salvo-Category: bad-mailbox\r\n"
    "Content-Type: multipart/report; report-type=delivery-status;\r\n"
    " boundary=\"XX\"\r\n"
    "\r\n"
    "preamble\r\n"
    "--XX\r\n"
    "Content-Type: text/plain\r\n"
    "\r\n"
    "No such user.\r\n"
    "--XX\r\n"
    "Content-Type: message/rfc822\r\n"
    "\r\n"
    "Subject: original\r\n"
    "From: a@b.c\r\n"
    "\r\n"
    "hello\r\n"
    "--XX--\r\n";

std::vector<ImapArg> Args(const std::string& line) {
  ImapLimits limits;
  std::string why;
  auto c = Tokenize({"t SEARCH " + line}, limits, &why);
  EXPECT_TRUE(c) << why;
  return c ? c->args : std::vector<ImapArg>{};
}

TEST(MimeMessageTest, Sections) {
  MimeMessage m(kReport);
  EXPECT_EQ(m.Section("")->size(), sizeof(kReport) - 1);
  EXPECT_EQ(*m.Section("1"), "No such user.");
  EXPECT_EQ(*m.Section("1.MIME"), "Content-Type: text/plain\r\n\r\n");
  EXPECT_EQ(*m.Section("2.HEADER"), "Subject: original\r\nFrom: a@b.c\r\n\r\n");
  EXPECT_EQ(*m.Section("2.TEXT"), "hello");
  EXPECT_EQ(*m.Section("2.1"), "hello");
  EXPECT_EQ(*m.Section("HEADER.FIELDS (subject x-salvo-category)"),
            "Subject: Undelivered\r\nX-Salvo-Category: bad-mailbox\r\n\r\n");
  EXPECT_EQ(*m.Section("HEADER.FIELDS.NOT (From To Subject X-Salvo-Category)"),
            "Content-Type: multipart/report; report-type=delivery-status;\r\n"
            " boundary=\"XX\"\r\n\r\n");
  EXPECT_EQ(*m.Section("9"), "");
  EXPECT_FALSE(m.Section("BOGUS"));
  EXPECT_FALSE(m.Section("MIME"));
  MimeMessage plain("Subject: x\r\n\r\nbody\r\n");
  EXPECT_EQ(*plain.Section("1"), "body\r\n");
  EXPECT_EQ(*plain.Section("TEXT"), "body\r\n");
}

TEST(MimeMessageTest, EnvelopeAndBodyStructure) {
  MimeMessage m(kReport);
  std::string env;
  AppendEnvelope(env, m.root());
  EXPECT_EQ(env,
            "(NIL \"Undelivered\" ((\"Mail Delivery\" NIL \"MAILER-DAEMON\" \"mx.example.net\")) "
            "((\"Mail Delivery\" NIL \"MAILER-DAEMON\" \"mx.example.net\")) "
            "((\"Mail Delivery\" NIL \"MAILER-DAEMON\" \"mx.example.net\")) "
            "((NIL NIL \"bounces\" \"salvo.test\")(\"Ops\" NIL \"ops\" \"salvo.test\")) "
            "NIL NIL NIL NIL)");
  std::string body;
  AppendBodyStructure(body, m.root(), false);
  EXPECT_EQ(body,
            "((\"TEXT\" \"PLAIN\" (\"CHARSET\" \"US-ASCII\") NIL NIL \"7BIT\" 13 1)"
            "(\"MESSAGE\" \"RFC822\" NIL NIL NIL \"7BIT\" 39 "
            "(NIL \"original\" ((NIL NIL \"a\" \"b.c\")) ((NIL NIL \"a\" \"b.c\")) "
            "((NIL NIL \"a\" \"b.c\")) NIL NIL NIL NIL NIL) "
            "(\"TEXT\" \"PLAIN\" (\"CHARSET\" \"US-ASCII\") NIL NIL \"7BIT\" 5 1) 4) \"REPORT\")");
  std::string ext;
  AppendBodyStructure(ext, m.root(), true);
  EXPECT_NE(ext.find("\"REPORT\" (\"REPORT-TYPE\" \"delivery-status\" \"BOUNDARY\" \"XX\") NIL "
                     "NIL NIL)"),
            std::string::npos)
      << ext;
}

TEST(MimeMessageTest, HostileStructureIsBounded) {
  std::string deep;
  for (int i = 0; i < 200; ++i) {
    deep += "Content-Type: multipart/mixed; boundary=b" + std::to_string(i) + "\r\n\r\n--b" +
            std::to_string(i) + "\r\n";
  }
  MimeMessage m(deep);
  std::string body;
  AppendBodyStructure(body, m.root(), true);
  EXPECT_LT(body.size(), 100000u);
  MimeMessage empty("");
  EXPECT_EQ(*empty.Section(""), "");
  MimeMessage no_sep("Subject: only header");
  EXPECT_EQ(*no_sep.Section("TEXT"), "");
}

TEST(AddressTest, Lists) {
  auto a = ParseAddressList("\"Doe, John\" <john@x.org>, jane@y.org (Jane), <@r:z@w>");
  ASSERT_EQ(a.size(), 3u);
  EXPECT_EQ(a[0].name, "Doe, John");
  EXPECT_EQ(a[0].mailbox, "john");
  EXPECT_EQ(a[1].name, "Jane");
  EXPECT_EQ(a[1].host, "y.org");
  EXPECT_EQ(a[2].mailbox, "z");
  EXPECT_EQ(ParseAddressList("undisclosed-recipients:;").size(), 0u);
}

TEST(FetchItemsTest, MacrosAndSections) {
  auto args = Args("1 FAST");
  auto r = ParseFetch(args, 1, true);
  ASSERT_TRUE(r.ok()) << r.status();
  EXPECT_EQ(r->items.size(), 4u);  // UID + FLAGS INTERNALDATE RFC822.SIZE
  EXPECT_FALSE(r->needs_content);
  args = Args("1 (BODY.PEEK[HEADER]<0.10> BODY[TEXT] RFC822.HEADER)");
  r = ParseFetch(args, 1, false);
  ASSERT_TRUE(r.ok()) << r.status();
  ASSERT_EQ(r->items.size(), 3u);
  EXPECT_TRUE(r->items[0].peek);
  EXPECT_EQ(*r->items[0].partial_start, 0u);
  EXPECT_EQ(r->items[0].partial_length, 10u);
  EXPECT_EQ(r->items[0].name, "BODY[HEADER]");
  EXPECT_TRUE(r->sets_seen);
  EXPECT_TRUE(r->needs_content);
  for (const char* bad : {"1 BOGUS", "1 (FLAGS NOPE)", "1 BODY[TEXT]<1>", "1 ()"}) {
    args = Args(bad);
    EXPECT_FALSE(ParseFetch(args, 1, false).ok()) << bad;
  }
}

TEST(SearchTest, ParseAndMatch) {
  MimeMessage m(kReport);
  mailbox::MessageMeta meta;
  meta.uid = 7;
  meta.flags = mailbox::kSeen;
  meta.size = 500;
  meta.internal_date =
      absl::FromCivil(absl::CivilSecond(2026, 11, 2, 10, 0, 0), absl::UTCTimeZone());
  meta.attributes.category = "bad-mailbox";
  meta.attributes.campaign = "spring-sale";
  SearchTarget t{&meta, 3, 5, 9, &m};
  auto match = [&](const std::string& q) {
    auto args = Args(q);
    auto k = ParseSearch(args, 0);
    EXPECT_TRUE(k.ok()) << q << ": " << k.status();
    return k.ok() && Matches(*k, t);
  };
  EXPECT_TRUE(match("ALL"));
  EXPECT_TRUE(match("SEEN UNFLAGGED"));
  EXPECT_FALSE(match("UNSEEN"));
  EXPECT_TRUE(match("FROM mailer-daemon TO ops SUBJECT undelivered"));
  EXPECT_TRUE(match("HEADER X-Salvo-Category BAD-MAILBOX"));
  EXPECT_TRUE(match("HEADER X-Salvo-Campaign spring"));
  EXPECT_TRUE(match("CATEGORY bad CAMPAIGN sale"));
  EXPECT_FALSE(match("CATEGORY complaint"));
  EXPECT_TRUE(match("BODY \"no such user\""));
  EXPECT_TRUE(match("TEXT original"));
  EXPECT_FALSE(match("BODY absent"));
  EXPECT_TRUE(match("SINCE 1-Nov-2026 BEFORE 3-Nov-2026 ON 2-Nov-2026"));
  EXPECT_TRUE(match("LARGER 499 SMALLER 501"));
  EXPECT_TRUE(match("UID 5:7 3 2:*"));
  EXPECT_FALSE(match("UID 8:*"));
  EXPECT_TRUE(match("OR DELETED (SEEN NOT RECENT)"));
  EXPECT_TRUE(match("NOT OR DELETED FLAGGED"));
  EXPECT_TRUE(match("CHARSET UTF-8 ALL"));
  for (const char* bad : {"", "BOGUS", "FROM", "OR SEEN", "SINCE yesterday", "UID x", "()"}) {
    auto args = Args(bad);
    EXPECT_FALSE(ParseSearch(args, 0).ok()) << bad;
  }
  auto args = Args("CHARSET KOI8-R ALL");
  EXPECT_EQ(ParseSearch(args, 0).status().message(), "[BADCHARSET]");
  args = Args("HEADER X-Salvo-Category hard SEEN");
  auto k = ParseSearch(args, 0);
  EXPECT_FALSE(NeedsContent(*k));
}

}  // namespace
}  // namespace salvo::imap
