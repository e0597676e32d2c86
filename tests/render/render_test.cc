// Rendering: templates + variables -> RFC 5322 bytes that an independent
// parser (Python's email package) reads back exactly; VERP tokens.
#include <unistd.h>

#include <array>
#include <cstdio>
#include <fstream>

#include "engine/render/campaign_template.h"
#include "engine/render/mime.h"
#include "engine/render/verp.h"
#include "gtest/gtest.h"
#include "nlohmann/json.hpp"

namespace salvo::render {
namespace {

// Parses `message` with tests/render/parse_message.py.
nlohmann::json ParseWithPython(const std::string& message) {
  char path[] = "/tmp/salvo-render-XXXXXX";
  int fd = mkstemp(path);
  EXPECT_GE(fd, 0);
  EXPECT_EQ(write(fd, message.data(), message.size()), static_cast<ssize_t>(message.size()));
  close(fd);
  std::string cmd =
      std::string("/usr/bin/python3 " SALVO_SOURCE_DIR "/tests/render/parse_message.py ") + path;
  std::string out;
  FILE* p = popen(cmd.c_str(), "r");
  char buf[4096];
  size_t n;
  while ((n = fread(buf, 1, sizeof buf, p)) > 0) out.append(buf, n);
  EXPECT_EQ(pclose(p), 0) << out;
  unlink(path);
  return nlohmann::json::parse(out, nullptr, false);
}

MessageContext Ctx() {
  MessageContext ctx;
  ctx.to = "ann@example.com";
  ctx.message_id = "abc123.1@salvo.test";
  ctx.date = "Sun, 22 Nov 2026 19:31:08 +0000";
  return ctx;
}

TEST(CampaignTemplate, RendersAlternativeWithVariablesAndParsesBack) {
  TemplateSpec spec;
  spec.from = "Shop Team <news@shop.test>";
  spec.subject = "Hello {{first_name}}, {{discount}}% off";
  spec.text = "Dear {{first_name}},\n\n{{#items}}- {{name}}\n{{/items}}Bye\n";
  spec.html = "<p>Dear {{first_name}}</p>";
  spec.headers = {{"X-Campaign", "spring-{{segment}}"}};
  auto t = CampaignTemplate::Compile(spec);
  ASSERT_TRUE(t.ok()) << t.status();
  nlohmann::json vars = {{"first_name", "Ann <b>"},
                         {"discount", 20},
                         {"segment", "vip"},
                         {"items", {{{"name", "hat"}}, {{"name", "scarf"}}}}};
  std::string out;
  ASSERT_TRUE((*t)->Render(vars, Ctx(), out).ok());
  nlohmann::json m = ParseWithPython(out);
  ASSERT_FALSE(m.is_discarded()) << out;
  EXPECT_EQ(m["subject"], "Hello Ann <b>, 20% off");
  EXPECT_EQ(m["from"], "Shop Team <news@shop.test>");
  EXPECT_EQ(m["to"], "ann@example.com");
  EXPECT_EQ(m["message_id"], "<abc123.1@salvo.test>");
  EXPECT_EQ(m["headers"]["X-Campaign"], "spring-vip");
  EXPECT_EQ(m["content_type"], "multipart/alternative");
  ASSERT_EQ(m["parts"].size(), 2u);
  EXPECT_EQ(m["parts"][0]["content"], "Dear Ann <b>,\n\n- hat\n- scarf\nBye\n");
  EXPECT_EQ(m["parts"][1]["content"], "<p>Dear Ann &lt;b&gt;</p>\n");  // HTML is escaped
  EXPECT_TRUE(m["defects"].empty()) << m["defects"];
  EXPECT_EQ(m["bare_lf"], 0);
}

TEST(CampaignTemplate, VariablesCannotInjectHeaders) {
  TemplateSpec spec;
  spec.from = "news@shop.test";
  spec.subject = "Hi {{name}}";
  spec.text = "x";
  auto t = CampaignTemplate::Compile(spec);
  ASSERT_TRUE(t.ok());
  std::string out;
  ASSERT_TRUE((*t)->Render({{"name", "Bob\r\nBcc: victim@example.com"}}, Ctx(), out).ok());
  nlohmann::json m = ParseWithPython(out);
  EXPECT_FALSE(m["headers"].contains("Bcc")) << out;
  EXPECT_EQ(m["subject"], "Hi Bob  Bcc: victim@example.com");
}

TEST(CampaignTemplate, NonAsciiSubjectAndLongLinesAreEncoded) {
  TemplateSpec spec;
  spec.from = "Café Équipe <news@shop.test>";
  spec.subject =
      "Grüße {{name}} — ein sehr langer Betreff, der gefaltet werden muss, weil er lang ist";
  spec.text = "Zeile mit Umlauten: äöü\n" + std::string(1200, 'x') + "\n.dot line\n";
  auto t = CampaignTemplate::Compile(spec);
  ASSERT_TRUE(t.ok());
  std::string out;
  ASSERT_TRUE((*t)->Render({{"name", "Jörg"}}, Ctx(), out).ok());
  nlohmann::json m = ParseWithPython(out);
  EXPECT_EQ(m["subject"],
            "Grüße Jörg — ein sehr langer Betreff, der gefaltet werden muss, weil er lang ist");
  EXPECT_EQ(m["from"], "Café Équipe <news@shop.test>");
  EXPECT_EQ(m["parts"][0]["content"],
            "Zeile mit Umlauten: äöü\n" + std::string(1200, 'x') + "\n.dot line\n");
  EXPECT_LE(m["max_line"].get<int>(), 998);
  for (unsigned char c : out) ASSERT_LT(c, 128) << "rendered message must be 7-bit";
}

TEST(CampaignTemplate, AttachmentsMakeMultipartMixed) {
  TemplateSpec spec;
  spec.from = "news@shop.test";
  spec.subject = "invoice";
  spec.text = "see attached";
  std::string pdf;
  for (int i = 0; i < 1000; ++i) pdf += static_cast<char>(i % 256);
  spec.attachments.push_back({"invoice.pdf", "application/pdf", pdf});
  auto t = CampaignTemplate::Compile(spec);
  ASSERT_TRUE(t.ok());
  std::string out;
  ASSERT_TRUE((*t)->Render(nlohmann::json::object(), Ctx(), out).ok());
  nlohmann::json m = ParseWithPython(out);
  EXPECT_EQ(m["content_type"], "multipart/mixed");
  ASSERT_EQ(m["parts"].size(), 2u);
  EXPECT_EQ(m["parts"][1]["filename"], "invoice.pdf");
  EXPECT_EQ(m["parts"][1]["size"], pdf.size());
}

TEST(CampaignTemplate, CompileErrorsNameTheField) {
  TemplateSpec spec;
  spec.from = "news@shop.test";
  spec.subject = "ok";
  spec.text = "{{#open}} never closed";
  auto t = CampaignTemplate::Compile(spec);
  ASSERT_FALSE(t.ok());
  EXPECT_NE(std::string(t.status().message()).find("text:"), std::string::npos) << t.status();
  spec.text = "x";
  spec.headers = {{"From", "evil"}};
  t = CampaignTemplate::Compile(spec);
  ASSERT_FALSE(t.ok());
  spec.headers = {{"Bad Name", "x"}};
  EXPECT_FALSE(CampaignTemplate::Compile(spec).ok());
}

TEST(Verp, TokenRoundTripsAndRejectsForgery) {
  VerpCodec codec("0123456789abcdef0123456789abcdef");
  RecipientKey id{};
  for (int i = 0; i < 16; ++i) id[i] = static_cast<uint8_t>(i * 17);
  std::string rp = codec.ReturnPath(id, "bounces.shop.test");
  std::string local = rp.substr(0, rp.find('@'));
  EXPECT_LE(local.size(), 64u);  // RFC 5321 local-part limit
  auto back = codec.VerifyAddress(rp);
  ASSERT_TRUE(back.ok()) << back.status();
  EXPECT_EQ(*back, id);
  // Upper case survives (some MTAs change case), a flipped character doesn't.
  std::string upper = local;
  for (char& c : upper) c = static_cast<char>(std::toupper(static_cast<unsigned char>(c)));
  EXPECT_TRUE(codec.Verify(upper.substr(7)).ok());
  std::string forged = codec.Token(id);
  forged[3] = forged[3] == 'a' ? 'b' : 'a';
  EXPECT_FALSE(codec.Verify(forged).ok());
  VerpCodec other("another secret");
  EXPECT_TRUE(absl::IsPermissionDenied(other.Verify(codec.Token(id)).status()));
  EXPECT_FALSE(codec.Verify("short").ok());
}

TEST(Mime, QuotedPrintableKeepsLinesShortAndEncodesTrailingSpace) {
  std::string out;
  AppendQuotedPrintable(std::string(200, 'a') + " \nnext=line\n", out);
  for (size_t start = 0, end; (end = out.find("\r\n", start)) != std::string::npos;
       start = end + 2) {
    EXPECT_LE(end - start, 76u);
  }
  EXPECT_NE(out.find("=20\r\n"), std::string::npos);
  EXPECT_NE(out.find("next=3Dline"), std::string::npos);
}

}  // namespace
}  // namespace salvo::render
