// Test helpers: a spool in a fresh temporary directory.
#pragma once

#include <gtest/gtest.h>
#include <stdlib.h>

#include <filesystem>
#include <memory>
#include <string>
#include <vector>

#include "queue/spool.h"

namespace salvo::queue::testing {

inline std::string MakeTempDir() {
  std::string tmpl = (std::filesystem::temp_directory_path() / "salvo-queue-XXXXXX").string();
  char* dir = mkdtemp(tmpl.data());
  EXPECT_NE(dir, nullptr);
  return tmpl;
}

inline std::vector<NewRecipient> Recipients(int n, const std::string& domain = "example.com") {
  std::vector<NewRecipient> out;
  for (int i = 0; i < n; ++i) {
    out.push_back({.address = "user" + std::to_string(i) + "@" + domain,
                   .variables = {{"name", "User " + std::to_string(i)}},
                   .dsn = {.notify = kNotifyFailure, .orcpt = "rfc822;orig" + std::to_string(i)}});
  }
  return out;
}

inline Campaign SampleCampaign(std::string name = "spring") {
  Campaign c;
  c.settings.name = std::move(name);
  c.settings.envelope_from = "news@shop.example";
  c.settings.metadata = {{"team", "growth"}};
  c.message_template.headers = {{"Subject", "Hi {{name}}"}};
  c.message_template.text = "Hello {{name}}";
  return c;
}

inline Message SampleMessage(std::string body = "Subject: test\r\n\r\nhello\r\n") {
  return Message{.envelope_from = "sender@origin.example", .content = std::move(body)};
}

inline DeliveryOutcome Delivered() {
  return {.kind = DeliveryOutcome::Kind::kDelivered,
          .response = {.host = "mx.example.com", .ip = "127.0.0.1", .code = 250, .text = "ok"}};
}
inline DeliveryOutcome Deferred(std::string text = "greylisted") {
  return {.kind = DeliveryOutcome::Kind::kDeferred,
          .response = {.host = "mx.example.com",
                       .ip = "127.0.0.1",
                       .code = 451,
                       .enhanced_status = "4.7.1",
                       .text = std::move(text)}};
}
inline DeliveryOutcome Failed() {
  return {.kind = DeliveryOutcome::Kind::kFailed,
          .response = {.code = 550, .enhanced_status = "5.1.1", .text = "no such user"}};
}

// Every delivery event in the spool, oldest first.
inline std::vector<DeliveryEvent> AllEvents(Spool& spool) {
  auto events = spool.ReadEvents(EventId(), 100000).Wait();
  EXPECT_TRUE(events.ok()) << events.status();
  return events.ok() ? *events : std::vector<DeliveryEvent>{};
}

class SpoolTest : public ::testing::Test {
 protected:
  void SetUp() override { dir_ = MakeTempDir(); }
  void TearDown() override {
    spool_.reset();
    std::filesystem::remove_all(dir_);
  }

  SpoolOptions Options() {
    SpoolOptions o;
    o.path = dir_ + "/spool";
    o.min_free_bytes = 0;
    o.retry.intervals = {absl::Minutes(1), absl::Minutes(10)};
    o.retry.jitter = 0;
    o.retry.max_age = absl::Hours(1);
    o.memtable_bytes = 16 << 20;
    o.block_cache_bytes = 8 << 20;
    return o;
  }
  void Open() { Open(Options()); }
  void Open(SpoolOptions o) {
    auto s = Spool::Open(std::move(o));
    ASSERT_TRUE(s.ok()) << s.status();
    spool_ = std::move(*s);
  }
  void Reopen() {
    spool_.reset();
    Open();
  }

  AcceptedMessage Accept(int n, const std::string& domain = "example.com") {
    auto r = spool_->AcceptMessage(SampleMessage(), Recipients(n, domain)).Wait();
    EXPECT_TRUE(r.ok()) << r.status();
    return r.ok() ? *r : AcceptedMessage{};
  }

  void ExpectConsistent() {
    AuditReport audit = spool_->Audit();
    for (const auto& p : audit.problems) ADD_FAILURE() << p;
  }

  std::string dir_;
  std::unique_ptr<Spool> spool_;
};

}  // namespace salvo::queue::testing
