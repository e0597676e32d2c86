#include "queue/codec.h"

#include <gtest/gtest.h>

#include "queue/wire.h"

namespace salvo::queue {
namespace {

using namespace std::string_literals;

NewRecipient SampleRecipient() {
  return NewRecipient{.address = "a@b.c",
                      .variables = {{"n", "A"}},
                      .dsn = {.notify = kNotifyFailure | kNotifyDelay, .orcpt = "rfc822;a@b.c"}};
}

void ExpectSameRecipient(const NewRecipient& a, const NewRecipient& b) {
  EXPECT_EQ(a.address, b.address);
  EXPECT_EQ(a.variables, b.variables);
  EXPECT_EQ(a.dsn, b.dsn);
}

TEST(Codec, RecipientV1BytesArePinned) {
  // The v1 on-disk form: if this changes, old spools would be misread.
  std::string v;
  EncodeRecipient(SampleRecipient(), &v);
  EXPECT_EQ(v,
            "\x01\x0a\x05"
            "a@b.c"
            "\x12\x06\x0a\x01n\x12\x01"
            "A"
            "\x18\x0c"
            "\x22\x0c"
            "rfc822;a@b.c"s);
}

TEST(Codec, RecipientRoundTripsWithEveryField) {
  NewRecipient r = SampleRecipient();
  r.variables.push_back({"first name", std::string("\0\xff binary", 9)});
  std::string v;
  EncodeRecipient(r, &v);
  auto back = DecodeRecipient(v);
  ASSERT_TRUE(back.ok()) << back.status();
  ExpectSameRecipient(*back, r);
  auto address = DecodeRecipientAddress(v);
  ASSERT_TRUE(address.ok());
  EXPECT_EQ(*address, "a@b.c");
}

TEST(Codec, AnOlderRecordWithoutLaterFieldsDecodesToDefaults) {
  // A v1 recipient as the first Salvo would have written it: address only.
  auto back = DecodeRecipient(
      "\x01\x0a\x05"
      "x@y.z"s);
  ASSERT_TRUE(back.ok()) << back.status();
  EXPECT_EQ(back->address, "x@y.z");
  EXPECT_TRUE(back->variables.empty());
  EXPECT_EQ(back->dsn, DsnParams{});
}

TEST(Codec, FieldsFromANewerSalvoAreSkipped) {
  std::string v;
  EncodeRecipient(SampleRecipient(), &v);
  wire::FieldWriter w(&v);
  w.Varint(40, 12345);                 // unknown varint field
  w.Bytes(41, "future payload");       // unknown bytes field
  v += "\x59"s + std::string(8, 'x');  // field 11, fixed64
  v += "\x65"s + std::string(4, 'y');  // field 12, fixed32
  auto back = DecodeRecipient(v);
  ASSERT_TRUE(back.ok()) << back.status();
  ExpectSameRecipient(*back, SampleRecipient());
}

TEST(Codec, ANewerFormatVersionIsRefusedClearly) {
  std::string v;
  EncodeRecipient(SampleRecipient(), &v);
  v[0] = 2;
  auto back = DecodeRecipient(v);
  EXPECT_TRUE(absl::IsFailedPrecondition(back.status())) << back.status();
  EXPECT_NE(back.status().message().find("newer"), absl::string_view::npos);
}

TEST(Codec, DamagedValuesAreDataLossNeverACrash) {
  std::string v;
  EncodeRecipient(SampleRecipient(), &v);
  EXPECT_TRUE(absl::IsDataLoss(DecodeRecipient("").status()));
  EXPECT_TRUE(absl::IsDataLoss(DecodeRecipient("\x00\x0a"s).status()));
  // Every truncation either decodes (at a field boundary) or is DataLoss.
  for (size_t n = 1; n < v.size(); ++n) {
    auto r = DecodeRecipient(v.substr(0, n));
    if (!r.ok()) {
      EXPECT_TRUE(absl::IsDataLoss(r.status())) << n << " " << r.status();
    }
  }
  // A known field with the wrong wire type.
  EXPECT_TRUE(absl::IsDataLoss(DecodeRecipient("\x01\x08\x05"s).status()));
  // A length running past the end.
  EXPECT_TRUE(absl::IsDataLoss(DecodeRecipient("\x01\x0a\x7f"
                                               "abc"s)
                                   .status()));
  EXPECT_TRUE(absl::IsDataLoss(DecodeRecipientAddress("\x01\x18\x01"s).status()));
}

TEST(Codec, MessageRoundTrips) {
  Message m{.envelope_from = "bounce@sender.example",
            .content = "Subject: hi\r\n\r\nbody\r\n",
            .ret = DsnReturn::kHeaders,
            .envid = "QQ314159",
            .max_age = absl::Hours(6)};
  std::string v;
  EncodeMessage(m, &v);
  auto back = DecodeContent(v);
  ASSERT_TRUE(back.ok()) << back.status();
  ASSERT_TRUE(std::holds_alternative<Message>(*back));
  EXPECT_EQ(std::get<Message>(*back), m);
  Message null_sender{.content = "x"};
  v.clear();
  EncodeMessage(null_sender, &v);
  EXPECT_EQ(std::get<Message>(*DecodeContent(v)), null_sender);
}

TEST(Codec, CampaignRoundTrips) {
  Campaign c;
  c.message_template.headers = {{"From", "News <news@shop.example>"}, {"Subject", "Hi {{name}}"}};
  c.message_template.text = "Hello {{name}}";
  c.message_template.html = "<p>Hello {{name}}</p>";
  c.message_template.attachments = {
      {.filename = "a.pdf",
       .content_type = "application/pdf",
       .data = std::string("%PDF\0\x01", 6)},
      {.filename = "logo.png", .content_type = "image/png", .data = "PNG", .content_id = "logo"}};
  c.settings = {.name = "spring",
                .envelope_from = "bounces@shop.example",
                .ret = DsnReturn::kFull,
                .envid = "E1",
                .max_age = absl::Hours(48),
                .metadata = {{"team", "growth"}}};
  std::string v;
  EncodeCampaign(c, &v);
  auto back = DecodeContent(v);
  ASSERT_TRUE(back.ok()) << back.status();
  ASSERT_TRUE(std::holds_alternative<Campaign>(*back));
  EXPECT_EQ(std::get<Campaign>(*back), c);
}

TEST(Codec, ContentMetaAndScheduleRoundTrip) {
  ContentMeta meta{.kind = ContentKind::kCampaign, .sealed = true, .max_age_s = 3600};
  EXPECT_EQ(*DecodeContentMeta(EncodeContentMeta(meta)), meta);
  ContentMeta cancelled{.kind = ContentKind::kMessage, .sealed = true, .cancelled = true};
  EXPECT_EQ(*DecodeContentMeta(EncodeContentMeta(cancelled)), cancelled);
  EXPECT_TRUE(absl::IsDataLoss(DecodeContentMeta("\x01\x08\x09"s).status()));  // kind 9

  ScheduleRecord s{.state = RecipientState::kDeferred,
                   .attempts = 3,
                   .next_attempt_ms = 1700000000123,
                   .last_attempt_ms = 1699999999000,
                   .last_response = RemoteResponse{.host = "mx1.example",
                                                   .ip = "192.0.2.1",
                                                   .code = 451,
                                                   .enhanced_status = "4.7.1",
                                                   .text = "greylisted"},
                   .last_reason = "greylisted"};
  EXPECT_EQ(*DecodeSchedule(EncodeSchedule(s)), s);
  ScheduleRecord bare{.state = RecipientState::kDeferred, .attempts = 1, .next_attempt_ms = 5};
  EXPECT_EQ(*DecodeSchedule(EncodeSchedule(bare)), bare);
}

TEST(Codec, ScheduleV1BytesArePinned) {
  ScheduleRecord s{.state = RecipientState::kDeferred, .attempts = 2, .next_attempt_ms = 300};
  EXPECT_EQ(EncodeSchedule(s), "\x01\x08\x01\x10\x02\x18\xac\x02"s);
}

TEST(Codec, EventAndSuppressionRoundTrip) {
  DeliveryEvent e{.recipient = NewId<RecipientId>(),
                  .content = NewId<ContentId>(),
                  .kind = RecipientState::kDeferred,
                  .time = absl::FromUnixMillis(1700000000456),
                  .attempts = 2,
                  .address = "u@d.example",
                  .response = {.host = "mx", .ip = "::1", .code = 421, .text = "try later"},
                  .reason = "",
                  .next_attempt = absl::FromUnixMillis(1700000600000)};
  auto back = DecodeEvent(EncodeEvent(e));
  ASSERT_TRUE(back.ok()) << back.status();
  EXPECT_EQ(back->recipient, e.recipient);
  EXPECT_EQ(back->content, e.content);
  EXPECT_EQ(back->kind, e.kind);
  EXPECT_EQ(back->time, e.time);
  EXPECT_EQ(back->attempts, 2);
  EXPECT_EQ(back->address, e.address);
  EXPECT_EQ(back->response, e.response);
  EXPECT_EQ(back->next_attempt, e.next_attempt);

  SuppressionEntry s{.address = "u@d.example",
                     .reason = "550 5.1.1 no such user",
                     .source = "bounce",
                     .created = absl::FromUnixMillis(1700000000000)};
  auto sb = DecodeSuppression(s.address, EncodeSuppression(s));
  ASSERT_TRUE(sb.ok());
  EXPECT_EQ(*sb, s);
}

TEST(Wire, VarintsRoundTripAtEveryWidth) {
  for (uint64_t v : {0ULL, 1ULL, 127ULL, 128ULL, 16383ULL, 16384ULL, 1ULL << 35, ~0ULL}) {
    std::string s;
    wire::PutVarint(&s, v);
    std::string_view in = s;
    uint64_t out = 0;
    ASSERT_TRUE(wire::GetVarint(&in, &out));
    EXPECT_EQ(out, v);
    EXPECT_TRUE(in.empty());
  }
  std::string_view bad = "\x80\x80";
  uint64_t out;
  EXPECT_FALSE(wire::GetVarint(&bad, &out));
}

}  // namespace
}  // namespace salvo::queue
