// DSNs out: ComposeDsn checked by an independent parser (Python's email
// package, policy=default), by our own ParseBounce (round trip), and the
// RFC 3461 rules of ShouldSendDsn/ParseNotify.
#include "engine/dsn/dsn_compose.h"

#include <gtest/gtest.h>
#include <unistd.h>

#include <cstdio>
#include <fstream>
#include <string>

#include "engine/dsn/bounce_parse.h"

namespace salvo::dsn {
namespace {

using namespace std::chrono_literals;

constexpr char kVerp[] = "bounce+a2b4c6d8e0f2g4h6i8j0k2l4m6n8o0p2q4r6s8t@bounces.example.com";

std::string Original() {
  return std::string("Return-Path: <") + kVerp +
         ">\nFrom: News <news@sender.example.com>\nTo: alice@example.net\n"
         "Subject: November offers\nMessage-ID: <c41.7f3a@sender.example.com>\n"
         "MIME-Version: 1.0\nContent-Type: text/plain; charset=utf-8\n\nHello Alice.\n";
}

DsnInput TwoRecipients(DsnReturn ret) {
  DsnInput in;
  in.reporting_mta = "mta1.sender.example.com";
  in.envelope_sender = "news@sender.example.com";
  in.envid = "campaign-42.msg-7";
  in.ret = ret;
  in.arrival = std::chrono::system_clock::from_time_t(1795000000);
  in.now = in.arrival + 2h;
  in.original = Original();
  in.message_id_seed = "spool-0001";
  DsnRecipient failed;
  failed.address = "alice@example.net";
  failed.original_recipient = "rfc822;Alice@Example.net";
  failed.action = DsnAction::kFailed;
  failed.status = "5.1.1";
  failed.remote_mta = "mx.example.net";
  failed.diagnostic = "550 5.1.1 <alice@example.net>: Recipient address rejected: User unknown";
  failed.last_attempt = in.now;
  DsnRecipient delayed;
  delayed.address = "bob@example.org";
  delayed.action = DsnAction::kDelayed;
  delayed.status = "4.2.2";
  delayed.remote_mta = "mx.example.org";
  delayed.diagnostic = "452 4.2.2 Mailbox full";
  delayed.last_attempt = in.now;
  delayed.will_retry_until = in.arrival + 120h;
  in.recipients = {failed, delayed};
  return in;
}

// Runs Python's email parser over `message` and returns what it printed.
std::string PythonView(const std::string& message) {
  // Unique per process: ctest runs the cases of this binary in parallel.
  const std::string stem = ::testing::TempDir() + "/dsn_compose_" + std::to_string(getpid());
  const std::string msg_path = stem + ".eml";
  const std::string script_path = stem + ".py";
  std::ofstream(msg_path, std::ios::binary) << message;
  std::ofstream(script_path) << R"PY(
import sys, email, email.policy
m = email.message_from_bytes(open(sys.argv[1], 'rb').read(), policy=email.policy.default)
def defects(part):
    return sum(len(p.defects) for p in part.walk())
print('type=' + m.get_content_type())
print('report-type=' + str(m.get_param('report-type')))
print('from=' + str(m['From'].addresses[0].addr_spec))
print('to=' + str(m['To'].addresses[0].addr_spec))
print('auto-submitted=' + str(m['Auto-Submitted']))
print('defects=%d' % defects(m))
parts = m.get_payload()
print('parts=' + ','.join(p.get_content_type() for p in parts))
status = parts[1].get_payload()
print('blocks=%d' % len(status))
for name in ('Reporting-MTA', 'Original-Envelope-Id', 'Arrival-Date'):
    print('msg.%s=%s' % (name, status[0][name]))
for i, block in enumerate(status[1:]):
    for name in ('Final-Recipient', 'Original-Recipient', 'Action', 'Status', 'Remote-MTA',
                 'Diagnostic-Code', 'Last-Attempt-Date', 'Will-Retry-Until'):
        print('rcpt%d.%s=%s' % (i, name, block[name]))
third = parts[2]
if third.get_content_type() == 'message/rfc822':
    print('returned.subject=' + str(third.get_payload()[0]['Subject']))
else:
    print('returned.text=' + ('Message-ID: <c41.7f3a@sender.example.com>' in third.get_content() and 'has-id' or 'no-id'))
)PY";
  std::string cmd = "/usr/bin/python3 " + script_path + " " + msg_path + " 2>&1";
  FILE* pipe = popen(cmd.c_str(), "r");
  EXPECT_NE(pipe, nullptr);
  if (pipe == nullptr) return {};
  std::string out;
  char buf[4096];
  size_t n;
  while ((n = fread(buf, 1, sizeof(buf), pipe)) > 0) out.append(buf, n);
  EXPECT_EQ(pclose(pipe), 0) << out;
  std::remove(msg_path.c_str());
  std::remove(script_path.c_str());
  return out;
}

TEST(DsnCompose, PythonEmailParsesEveryRequiredField) {
  absl::StatusOr<std::string> dsn = ComposeDsn(TwoRecipients(DsnReturn::kHeaders));
  ASSERT_TRUE(dsn.ok()) << dsn.status();
  std::string view = PythonView(*dsn);
  for (const char* line :
       {"type=multipart/report\n",
        "report-type=delivery-status\n",
        "from=MAILER-DAEMON@mta1.sender.example.com\n",
        "to=news@sender.example.com\n",
        "auto-submitted=auto-replied\n",
        "defects=0\n",
        "parts=text/plain,message/delivery-status,text/rfc822-headers\n",
        "blocks=3\n",
        "msg.Reporting-MTA=dns; mta1.sender.example.com\n",
        "msg.Original-Envelope-Id=campaign-42.msg-7\n",
        "msg.Arrival-Date=Wed, 18 Nov 2026 ",  // 1795000000
        "rcpt0.Final-Recipient=rfc822; alice@example.net\n",
        "rcpt0.Original-Recipient=rfc822;Alice@Example.net\n",
        "rcpt0.Action=failed\n",
        "rcpt0.Status=5.1.1\n",
        "rcpt0.Remote-MTA=dns; mx.example.net\n",
        "rcpt0.Diagnostic-Code=smtp; 550 5.1.1 <alice@example.net>: Recipient address "
        "rejected: User unknown\n",
        "rcpt0.Last-Attempt-Date=Wed, 18 Nov 2026 ",
        "rcpt0.Will-Retry-Until=None\n",
        "rcpt1.Final-Recipient=rfc822; bob@example.org\n",
        "rcpt1.Original-Recipient=None\n",
        "rcpt1.Action=delayed\n",
        "rcpt1.Status=4.2.2\n",
        "rcpt1.Will-Retry-Until=Mon, 23 Nov 2026 ",
        "returned.text=has-id\n"}) {
    EXPECT_NE(view.find(line), std::string::npos) << "missing " << line << " in\n" << view;
  }
}

TEST(DsnCompose, RetFullReturnsTheMessageAsMessageRfc822) {
  absl::StatusOr<std::string> dsn = ComposeDsn(TwoRecipients(DsnReturn::kFull));
  ASSERT_TRUE(dsn.ok());
  std::string view = PythonView(*dsn);
  EXPECT_NE(view.find("parts=text/plain,message/delivery-status,message/rfc822\n"),
            std::string::npos)
      << view;
  EXPECT_NE(view.find("returned.subject=November offers\n"), std::string::npos) << view;
  EXPECT_NE(view.find("defects=0\n"), std::string::npos) << view;
}

TEST(DsnCompose, OversizedOriginalComesBackAsHeadersOnly) {
  DsnInput in = TwoRecipients(DsnReturn::kFull);
  in.max_returned_bytes = 64;
  absl::StatusOr<std::string> dsn = ComposeDsn(in);
  ASSERT_TRUE(dsn.ok());
  EXPECT_NE(dsn->find("Content-Type: text/rfc822-headers"), std::string::npos);
  EXPECT_EQ(dsn->find("Hello Alice."), std::string::npos);
}

TEST(DsnCompose, RoundTripThroughParseBounce) {
  absl::StatusOr<std::string> dsn = ComposeDsn(TwoRecipients(DsnReturn::kHeaders));
  ASSERT_TRUE(dsn.ok());
  BounceReport report = ParseBounce(*dsn);
  EXPECT_EQ(report.kind, BounceKind::kDsn);
  EXPECT_FALSE(report.non_standard);
  EXPECT_FALSE(report.truncated);
  EXPECT_EQ(report.reporting_mta, "mta1.sender.example.com");
  EXPECT_EQ(report.original_envelope_id, "campaign-42.msg-7");
  EXPECT_EQ(report.verp_address, kVerp);
  EXPECT_EQ(report.original_message_id, "<c41.7f3a@sender.example.com>");
  ASSERT_EQ(report.recipients.size(), 2u);
  EXPECT_EQ(report.recipients[0].address, "alice@example.net");
  EXPECT_EQ(report.recipients[0].original_recipient, "Alice@Example.net");
  EXPECT_EQ(report.recipients[0].action, "failed");
  EXPECT_EQ(report.recipients[0].status, "5.1.1");
  EXPECT_EQ(report.recipients[0].remote_mta, "mx.example.net");
  EXPECT_EQ(report.recipients[0].classification.category, BounceCategory::kHard);
  EXPECT_EQ(report.recipients[0].classification.reason, BounceReason::kNoSuchUser);
  EXPECT_EQ(report.recipients[1].action, "delayed");
  EXPECT_EQ(report.recipients[1].classification.category, BounceCategory::kSoft);
  EXPECT_EQ(report.recipients[1].classification.reason, BounceReason::kMailboxFull);
  EXPECT_EQ(report.classification.category, BounceCategory::kHard);
}

TEST(DsnCompose, FieldValuesCannotInjectHeaders) {
  DsnInput in = TwoRecipients(DsnReturn::kHeaders);
  in.reporting_mta = "evil.example\r\nBcc: victim@example.com";
  in.recipients[0].diagnostic = "550 no\r\nAction: delivered\r\n\r\nX: y";
  absl::StatusOr<std::string> dsn = ComposeDsn(in);
  ASSERT_TRUE(dsn.ok());
  EXPECT_EQ(dsn->find("\r\nBcc:"), std::string::npos);
  EXPECT_EQ(dsn->find("\r\nAction: delivered"), std::string::npos);
  BounceReport report = ParseBounce(*dsn);
  ASSERT_EQ(report.recipients.size(), 2u);
  EXPECT_EQ(report.recipients[0].action, "failed");
}

TEST(DsnCompose, RefusesNullSenderAndEmptyRecipientList) {
  DsnInput in = TwoRecipients(DsnReturn::kHeaders);
  in.envelope_sender = "<>";
  EXPECT_FALSE(ComposeDsn(in).ok());
  in = TwoRecipients(DsnReturn::kHeaders);
  in.recipients.clear();
  EXPECT_FALSE(ComposeDsn(in).ok());
}

TEST(DsnRules, NotifyParsing) {
  absl::StatusOr<DsnNotify> n = ParseNotify("success,Delay");
  ASSERT_TRUE(n.ok());
  EXPECT_TRUE(n->specified && n->success && n->delay && !n->failure && !n->never);
  EXPECT_TRUE(ParseNotify("NEVER").ok());
  EXPECT_FALSE(ParseNotify("NEVER,FAILURE").ok());
  EXPECT_FALSE(ParseNotify("SOMETIMES").ok());
  EXPECT_FALSE(ParseNotify("").ok());
}

TEST(DsnRules, ShouldSendDsnFollowsRfc3461) {
  const std::string plain = Original();
  DsnNotify by_default;
  EXPECT_TRUE(ShouldSendDsn("a@b.example", plain, by_default, DsnAction::kFailed));
  EXPECT_TRUE(ShouldSendDsn("a@b.example", plain, by_default, DsnAction::kDelayed));
  EXPECT_FALSE(ShouldSendDsn("a@b.example", plain, by_default, DsnAction::kDelivered));
  EXPECT_FALSE(ShouldSendDsn("", plain, by_default, DsnAction::kFailed));
  EXPECT_FALSE(ShouldSendDsn("<>", plain, by_default, DsnAction::kFailed));
  DsnNotify never = *ParseNotify("NEVER");
  EXPECT_FALSE(ShouldSendDsn("a@b.example", plain, never, DsnAction::kFailed));
  DsnNotify success = *ParseNotify("SUCCESS");
  EXPECT_TRUE(ShouldSendDsn("a@b.example", plain, success, DsnAction::kDelivered));
  EXPECT_TRUE(ShouldSendDsn("a@b.example", plain, success, DsnAction::kRelayed));
  EXPECT_FALSE(ShouldSendDsn("a@b.example", plain, success, DsnAction::kFailed));
  DsnNotify failure = *ParseNotify("FAILURE");
  EXPECT_FALSE(ShouldSendDsn("a@b.example", plain, failure, DsnAction::kDelayed));
  // Never a DSN about a DSN, ours or anyone's, even with a non-null sender.
  absl::StatusOr<std::string> dsn = ComposeDsn(TwoRecipients(DsnReturn::kHeaders));
  ASSERT_TRUE(dsn.ok());
  EXPECT_TRUE(IsDeliveryStatusReport(*dsn));
  EXPECT_FALSE(ShouldSendDsn("a@b.example", *dsn, by_default, DsnAction::kFailed));
  EXPECT_FALSE(IsDeliveryStatusReport(plain));
  EXPECT_FALSE(IsDeliveryStatusReport(
      "Content-Type: multipart/report; report-type=feedback-report; boundary=x\n\n"));
}

TEST(DsnRules, XtextAndDates) {
  EXPECT_EQ(DecodeXtext("a+2Bb+3Dc@example.com"), "a+b=c@example.com");
  EXPECT_EQ(DecodeXtext("odd+2"), "odd+2");
  EXPECT_EQ(FormatRfc5322Date(std::chrono::system_clock::from_time_t(0)),
            "Thu, 01 Jan 1970 00:00:00 +0000");
}

}  // namespace
}  // namespace salvo::dsn
