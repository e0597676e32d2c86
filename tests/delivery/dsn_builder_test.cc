// dsn_builder (outcome -> report line, the DSN as a spool message) and the
// [delivery] DSN keys. Pure functions: no engine, no spool.
#include "engine/delivery/dsn_builder.h"

#include <gtest/gtest.h>

#include "engine/config/config_loader.h"
#include "engine/delivery/outcome_mapping.h"

namespace salvo::delivery {
namespace {

using Kind = queue::DeliveryOutcome::Kind;

queue::DeliveryOutcome Remote(int code, std::string enhanced, std::string text) {
  queue::DeliveryOutcome o;
  o.kind = code >= 500 ? Kind::kFailed : code >= 400 ? Kind::kDeferred : Kind::kDelivered;
  o.response = {.host = "mx.b.example",
                .ip = "192.0.2.1",
                .code = code,
                .enhanced_status = std::move(enhanced),
                .text = std::move(text)};
  return o;
}

DsnEntry Entry(queue::DeliveryOutcome o, dsn::DsnAction action = dsn::DsnAction::kFailed) {
  return DsnEntry{.address = "rcpt@b.example",
                  .action = action,
                  .outcome = std::move(o),
                  .attempted = absl::FromUnixSeconds(1800000000)};
}

TEST(DsnBuilder, RemoteRefusalKeepsItsStatusAndQuotesTheReply) {
  dsn::DsnRecipient r = ReportRecipient(Entry(Remote(550, "5.1.1", "no such user")));
  EXPECT_EQ(r.status, "5.1.1");
  EXPECT_EQ(r.remote_mta, "mx.b.example");
  EXPECT_EQ(r.diagnostic, "550 5.1.1 no such user");
  EXPECT_EQ(r.action, dsn::DsnAction::kFailed);
  ASSERT_TRUE(r.last_attempt.has_value());
}

TEST(DsnBuilder, StatusClassFollowsTheAction) {
  EXPECT_EQ(ReportRecipient(Entry(Remote(550, "", "go away"))).status, "5.0.0");
  EXPECT_EQ(ReportRecipient(Entry(Remote(554, "4.7.1", "odd"))).status, "5.7.1");
  EXPECT_EQ(ReportRecipient(Entry(Remote(451, "4.7.1", "later"), dsn::DsnAction::kDelayed)).status,
            "4.7.1");
  EXPECT_EQ(ReportRecipient(Entry(Remote(250, "", "ok"), dsn::DsnAction::kRelayed)).status,
            "2.0.0");
}

TEST(DsnBuilder, ExpiryIsFailedWith447AndTheLastReply) {
  queue::RetryPolicy retry;
  retry.max_age = absl::Hours(1);
  queue::DeliveryOutcome o = Remote(451, "4.7.1", "greylisted");
  absl::Time accepted = absl::FromUnixSeconds(1800000000);
  ApplyRetryPolicy(retry, 7, accepted, accepted + absl::Hours(2), o);
  ASSERT_EQ(o.kind, Kind::kFailed);
  EXPECT_TRUE(IsExpiryFailure(o));
  EXPECT_FALSE(IsExpiryFailure(Remote(550, "5.1.1", "no")));
  DsnEntry e = Entry(o);
  e.expired = true;
  dsn::DsnRecipient r = ReportRecipient(e);
  EXPECT_EQ(r.status, "4.4.7");
  EXPECT_EQ(r.diagnostic, "451 4.7.1 greylisted");
}

TEST(DsnBuilder, LocalFailureHasNoRemoteMtaAndGivesTheReason) {
  queue::DeliveryOutcome o =
      OutcomeFromDnsError(absl::NotFoundError("no such domain"), "nowhere.example");
  o.kind = Kind::kFailed;
  dsn::DsnRecipient r = ReportRecipient(Entry(o));
  EXPECT_TRUE(r.remote_mta.empty());
  EXPECT_NE(r.diagnostic.find("nowhere.example"), std::string::npos) << r.diagnostic;
  EXPECT_EQ(r.status[0], '5');
}

TEST(DsnBuilder, OrcptIsXtextDecoded) {
  DsnEntry e = Entry(Remote(550, "5.1.1", "no"));
  e.params.orcpt = "rfc822;a+2Bb@b.example";
  EXPECT_EQ(ReportRecipient(e).original_recipient, "rfc822;a+b@b.example");
}

TEST(DsnBuilder, TheDsnGoesFromTheNullSenderWithNotifyNever) {
  queue::Message original{.envelope_from = "author@a.example",
                          .content = "From: author@a.example\r\nSubject: hi\r\n\r\nbody\r\n",
                          .ret = queue::DsnReturn::kFull,
                          .envid = "X+2B1"};
  DsnSettings settings{.reporting_mta = "mta.a.example"};
  absl::StatusOr<DsnMessage> m =
      BuildDsnMessage(original, absl::FromUnixSeconds(1800000000),
                      {Entry(Remote(550, "5.1.1", "no"))}, settings, "seed-1");
  ASSERT_TRUE(m.ok()) << m.status();
  EXPECT_EQ(m->message.envelope_from, "");
  ASSERT_EQ(m->recipients.size(), 1u);
  EXPECT_EQ(m->recipients[0].address, "author@a.example");
  EXPECT_EQ(m->recipients[0].dsn.notify, queue::kNotifyNever);
  const std::string& c = m->message.content;
  EXPECT_NE(c.find("report-type=delivery-status"), std::string::npos);
  EXPECT_NE(c.find("Original-Envelope-Id: X+1"), std::string::npos) << c;
  EXPECT_NE(c.find("Reporting-MTA: dns; mta.a.example"), std::string::npos);
  EXPECT_NE(c.find("message/rfc822"), std::string::npos);
  EXPECT_TRUE(dsn::IsDeliveryStatusReport(c));
  // Never to <>.
  original.envelope_from = "";
  EXPECT_FALSE(BuildDsnMessage(original, absl::Now(), {Entry(Remote(550, "5.1.1", "no"))}, settings,
                               "seed-2")
                   .ok());
}

TEST(DsnBuilder, NotifyBitsMapToTheRfc3461Flags) {
  dsn::DsnNotify none = NotifyOf(0);
  EXPECT_FALSE(none.specified);
  dsn::DsnNotify n = NotifyOf(queue::kNotifySuccess | queue::kNotifyDelay);
  EXPECT_TRUE(n.specified && n.success && n.delay);
  EXPECT_FALSE(n.failure || n.never);
  EXPECT_TRUE(NotifyOf(queue::kNotifyNever).never);
}

TEST(DsnConfigKeys, ParsedFromDeliveryWithDefaults) {
  ConfigParseResult d = ParseConfig("[server]\nhostname = \"mx.example.com\"\n");
  ASSERT_TRUE(d.ok()) << d.ErrorReport("d");
  DsnSettings s = DsnSettingsFrom(d.config, "");
  EXPECT_TRUE(s.enabled);
  EXPECT_EQ(s.delay_warning, absl::ZeroDuration());
  EXPECT_EQ(s.reporting_mta, "mx.example.com");
  EXPECT_EQ(s.max_returned_bytes, size_t{1} << 20);

  ConfigParseResult r = ParseConfig(
      "[delivery]\ndsn_enabled = false\ndelay_warning = \"4h\"\n"
      "reporting_mta = \"dsn.example.com\"\nmax_returned_bytes = \"512KiB\"\n");
  ASSERT_TRUE(r.ok()) << r.ErrorReport("r");
  s = DsnSettingsFrom(r.config, "host.example.com");
  EXPECT_FALSE(s.enabled);
  EXPECT_EQ(s.delay_warning, absl::Hours(4));
  EXPECT_EQ(s.reporting_mta, "dsn.example.com");
  EXPECT_EQ(s.max_returned_bytes, 512u << 10);

  ConfigParseResult bad = ParseConfig("[delivery]\ndelay_warning = \"-1s\"\n");
  EXPECT_FALSE(bad.ok());
  ConfigParseResult in_rule = ParseConfig(
      "[delivery]\n[[delivery.destination]]\npattern = \"x.example\"\ndsn_enabled = false\n");
  EXPECT_FALSE(in_rule.ok()) << "DSN keys belong to [delivery] only";
}

}  // namespace
}  // namespace salvo::delivery
