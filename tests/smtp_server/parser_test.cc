// The I/O-free command parser: verbs, paths, ESMTP parameters and their
// error replies.
#include "engine/smtp/server/address_parser.h"
#include "engine/smtp/server/command_parser.h"
#include "gtest/gtest.h"

namespace salvo::smtp {
namespace {

std::string Code(const std::optional<SmtpReply>& r) {
  return r ? std::to_string(r->code) + " " + r->enhanced : "ok";
}

TEST(SplitCommand, VerbsAreCaseInsensitiveAndArgumentsTrimmed) {
  auto c = SplitCommand("mail FROM:<a@b.test>  SIZE=10  ");
  EXPECT_EQ(c.verb, Verb::kMail);
  EXPECT_EQ(c.args, "FROM:<a@b.test>  SIZE=10");
  EXPECT_EQ(SplitCommand("StartTLS").verb, Verb::kStartTls);
  EXPECT_EQ(SplitCommand("QUIT").args, "");
  EXPECT_EQ(SplitCommand("XYZZY hello").verb, Verb::kUnknown);
  EXPECT_EQ(SplitCommand("").verb, Verb::kUnknown);
  EXPECT_EQ(SplitCommand("GET / HTTP/1.1").verb, Verb::kHttp);
  EXPECT_EQ(SplitCommand("MAILFROM:<a@b>").verb, Verb::kUnknown);
}

TEST(SplitCommand, ForbiddenBytes) {
  EXPECT_FALSE(HasForbiddenBytes("MAIL FROM:<a@b>\tX"));
  EXPECT_FALSE(HasForbiddenBytes("RCPT TO:<j\xc3\xb6rg@b.test>"));
  EXPECT_TRUE(HasForbiddenBytes(std::string("NOOP\0x", 6)));
  EXPECT_TRUE(HasForbiddenBytes("NOOP\rRSET"));
  EXPECT_TRUE(HasForbiddenBytes("NOOP\x7f"));
}

TEST(ParsePath, AcceptsWhatRfc5321Allows) {
  auto p = ParsePath("<user@example.com>", PathKind::kReverse);
  ASSERT_TRUE(p.ok()) << p.status();
  EXPECT_EQ(p->address, "user@example.com");
  EXPECT_EQ(p->domain, "example.com");
  EXPECT_EQ(p->rest, "");

  p = ParsePath("<>", PathKind::kReverse);
  ASSERT_TRUE(p.ok());
  EXPECT_EQ(p->address, "");

  p = ParsePath(" <@relay.test,@other.test:user@example.com> SIZE=1", PathKind::kForward);
  ASSERT_TRUE(p.ok()) << p.status();
  EXPECT_EQ(p->address, "user@example.com");
  EXPECT_EQ(p->rest, " SIZE=1");

  p = ParsePath("<\"odd >name\"@example.com>", PathKind::kForward);
  ASSERT_TRUE(p.ok()) << p.status();
  EXPECT_EQ(p->address, "\"odd >name\"@example.com");

  p = ParsePath("<Postmaster>", PathKind::kForward);
  ASSERT_TRUE(p.ok());
  EXPECT_EQ(p->address, "Postmaster");
  EXPECT_EQ(p->domain, "");

  p = ParsePath("<a@[192.0.2.1]>", PathKind::kForward);
  EXPECT_TRUE(p.ok());
  p = ParsePath("<a@[IPv6:2001:db8::1]>", PathKind::kForward);
  EXPECT_TRUE(p.ok());

  p = ParsePath("<j\xc3\xb6rg@b\xc3\xbc\x63her.test>", PathKind::kForward);
  ASSERT_TRUE(p.ok());
  EXPECT_TRUE(p->has_utf8);
}

TEST(ParsePath, RefusesWhatItMustNot) {
  for (std::string_view bad :
       {"user@example.com", "<user@example.com", "<>", "<user>", "<@example.com>", "<user@>",
        "<user@-bad.test>", "<user@bad-.test>", "<user@a..b>", "<.user@a.test>", "<user@a.test>x",
        "<us er@a.test>", "<a@[300.1.1.1]>", "<\"unterminated@a.test>"}) {
    EXPECT_FALSE(ParsePath(bad, PathKind::kForward).ok()) << bad;
  }
  std::string long_local = "<" + std::string(65, 'a') + "@a.test>";
  EXPECT_FALSE(ParsePath(long_local, PathKind::kForward).ok());
  std::string long_path = "<a@" + std::string(60, 'b') + "." + std::string(60, 'c') + "." +
                          std::string(60, 'd') + "." + std::string(60, 'e') + "." +
                          std::string(60, 'f') + ".test>";
  EXPECT_FALSE(ParsePath(long_path, PathKind::kForward).ok());
}

TEST(ParseMail, ParametersAreParsedAndNormalised) {
  MailCommand m;
  auto r = ParseMail(
      "FROM:<a@b.test> SIZE=1000 body=8bitmime SMTPUTF8 RET=hdrs ENVID=QQ+2B1 AUTH=<>", 5000, &m);
  ASSERT_EQ(Code(r), "ok");
  EXPECT_EQ(m.reverse_path, "a@b.test");
  EXPECT_EQ(m.size, 1000u);
  EXPECT_EQ(m.body, BodyType::k8BitMime);
  EXPECT_TRUE(m.smtputf8);
  EXPECT_EQ(m.ret, "HDRS");
  EXPECT_EQ(m.envid, "QQ+2B1");
  EXPECT_EQ(m.auth, "<>");

  EXPECT_EQ(Code(ParseMail("FROM:<>", 0, &m)), "ok");
  EXPECT_EQ(m.reverse_path, "");
  EXPECT_EQ(Code(ParseMail("FROM: <a@b.test>", 0, &m)), "ok");  // space tolerated
}

TEST(ParseMail, ErrorsCarryTheRightCodes) {
  MailCommand m;
  EXPECT_EQ(Code(ParseMail("TO:<a@b.test>", 0, &m)), "501 5.5.4");
  EXPECT_EQ(Code(ParseMail("FROM:a@b.test", 0, &m)), "501 5.1.7");
  EXPECT_EQ(Code(ParseMail("FROM:<a@b.test> SIZE=6000", 5000, &m)), "552 5.3.4");
  EXPECT_EQ(Code(ParseMail("FROM:<a@b.test> SIZE=x", 0, &m)), "501 5.5.4");
  EXPECT_EQ(Code(ParseMail("FROM:<a@b.test> SIZE=99999999999999999999999", 0, &m)), "501 5.5.4");
  EXPECT_EQ(Code(ParseMail("FROM:<a@b.test> BODY=BINARYMIME", 0, &m)), "555 5.5.4");
  EXPECT_EQ(Code(ParseMail("FROM:<a@b.test> BODY=9BIT", 0, &m)), "501 5.5.4");
  EXPECT_EQ(Code(ParseMail("FROM:<a@b.test> XFOO=1", 0, &m)), "555 5.5.4");
  EXPECT_EQ(Code(ParseMail("FROM:<a@b.test> SIZE=1 SIZE=2", 0, &m)), "501 5.5.4");
  EXPECT_EQ(Code(ParseMail("FROM:<a@b.test> RET=ALL", 0, &m)), "501 5.5.4");
  EXPECT_EQ(Code(ParseMail("FROM:<a@b.test> ENVID=a+zz", 0, &m)), "501 5.5.4");
  EXPECT_EQ(Code(ParseMail("FROM:<a@b.test> ENVID=" + std::string(101, 'x'), 0, &m)), "501 5.5.4");
  EXPECT_EQ(Code(ParseMail("FROM:<a@b.test> SMTPUTF8=yes", 0, &m)), "501 5.5.4");
  EXPECT_EQ(Code(ParseMail("FROM:<a@b.test> =x", 0, &m)), "501 5.5.4");
  EXPECT_EQ(Code(ParseMail("FROM:<j\xc3\xb6rg@b.test>", 0, &m)), "553 5.6.7");
  EXPECT_EQ(Code(ParseMail("FROM:<j\xc3\xb6rg@b.test> SMTPUTF8", 0, &m)), "ok");
}

TEST(ParseRcpt, DsnParameters) {
  RcptCommand r;
  ASSERT_EQ(
      Code(ParseRcpt("TO:<b@c.test> NOTIFY=failure,success ORCPT=rfc822;b@c.test", false, &r)),
      "ok");
  EXPECT_EQ(r.forward_path, "b@c.test");
  EXPECT_EQ(r.domain, "c.test");
  EXPECT_EQ(r.notify, "SUCCESS,FAILURE");
  EXPECT_EQ(r.orcpt, "rfc822;b@c.test");
  EXPECT_EQ(Code(ParseRcpt("TO:<b@c.test> NOTIFY=NEVER", false, &r)), "ok");
  EXPECT_EQ(r.notify, "NEVER");
  EXPECT_EQ(Code(ParseRcpt("TO:<b@c.test> NOTIFY=NEVER,DELAY", false, &r)), "501 5.5.4");
  EXPECT_EQ(Code(ParseRcpt("TO:<b@c.test> NOTIFY=DELAY,DELAY", false, &r)), "501 5.5.4");
  EXPECT_EQ(Code(ParseRcpt("TO:<b@c.test> NOTIFY=", false, &r)), "501 5.5.4");
  EXPECT_EQ(Code(ParseRcpt("TO:<b@c.test> ORCPT=b@c.test", false, &r)), "501 5.5.4");
  EXPECT_EQ(Code(ParseRcpt("TO:<b@c.test> SIZE=1", false, &r)), "555 5.5.4");
  EXPECT_EQ(Code(ParseRcpt("TO:<>", false, &r)), "501 5.1.3");
  EXPECT_EQ(Code(ParseRcpt("FROM:<b@c.test>", false, &r)), "501 5.5.4");
  EXPECT_EQ(Code(ParseRcpt("TO:<\xc3\xb6@c.test>", false, &r)), "553 5.6.7");
  EXPECT_EQ(Code(ParseRcpt("TO:<\xc3\xb6@c.test>", true, &r)), "ok");
  EXPECT_EQ(Code(ParseRcpt("TO:<postmaster>", false, &r)), "ok");
  EXPECT_EQ(r.domain, "");
}

TEST(ParseBdatAuthHelo, Syntax) {
  BdatCommand b;
  EXPECT_EQ(Code(ParseBdat("100", &b)), "ok");
  EXPECT_EQ(b.size, 100u);
  EXPECT_FALSE(b.last);
  EXPECT_EQ(Code(ParseBdat("0 last", &b)), "ok");
  EXPECT_TRUE(b.last);
  EXPECT_EQ(Code(ParseBdat("", &b)), "501 5.5.4");
  EXPECT_EQ(Code(ParseBdat("-1", &b)), "501 5.5.4");
  EXPECT_EQ(Code(ParseBdat("10 FIRST", &b)), "501 5.5.4");
  EXPECT_EQ(Code(ParseBdat("184467440737095516160", &b)), "501 5.5.4");

  AuthCommand a;
  EXPECT_EQ(Code(ParseAuth("plain", &a)), "ok");
  EXPECT_EQ(a.mechanism, "PLAIN");
  EXPECT_FALSE(a.initial_response.has_value());
  EXPECT_EQ(Code(ParseAuth("PLAIN AGFsaWNlAHNlY3JldA==", &a)), "ok");
  EXPECT_EQ(*a.initial_response, "AGFsaWNlAHNlY3JldA==");
  EXPECT_EQ(Code(ParseAuth("PLAIN a b", &a)), "501 5.5.4");

  std::string helo;
  EXPECT_EQ(Code(ParseHelo("client.example.com", &helo)), "ok");
  EXPECT_EQ(Code(ParseHelo("[127.0.0.1]", &helo)), "ok");
  EXPECT_EQ(Code(ParseHelo("WIN_PC", &helo)), "ok");
  EXPECT_EQ(Code(ParseHelo("a(b)", &helo)), "501 5.5.2");
  EXPECT_EQ(Code(ParseHelo("[999.1.1.1]", &helo)), "501 5.5.2");
}

TEST(Xtext, Validation) {
  EXPECT_TRUE(IsValidXtext("abc+2B+3D"));
  EXPECT_FALSE(IsValidXtext("a+2"));
  EXPECT_FALSE(IsValidXtext("a+2b"));
  EXPECT_FALSE(IsValidXtext("a=b"));
  EXPECT_FALSE(IsValidXtext("a b"));
}

}  // namespace
}  // namespace salvo::smtp
