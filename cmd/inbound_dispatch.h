// InboundDispatchSink: the port-25 listener's sink when one port is both the
// relay for trusted clients and the MX of the bounce domains. Recipients in
// a bounce domain (or an FBL address) go to the bounce ingester; the others
// to the spool for delivery. The 250 is given only when every part is
// durable; if a part fails, the client retries the whole transaction (the
// bounce side may then store a second copy: never a loss).
#pragma once

#include <memory>
#include <string>
#include <vector>

#include "engine/smtp/server/message_sink.h"

namespace salvo {

class InboundDispatchSink final : public smtp::MessageSink {
 public:
  InboundDispatchSink(std::vector<std::string> bounce_domains,
                      std::vector<std::string> fbl_addresses,
                      std::shared_ptr<smtp::MessageSink> bounces,
                      std::shared_ptr<smtp::MessageSink> spool);
  Task<absl::StatusOr<smtp::AcceptedMessage>> Accept(smtp::InboundMessage message) override;

  bool IsBounceAddress(std::string_view address) const;

 private:
  std::vector<std::string> bounce_domains_;
  std::vector<std::string> fbl_addresses_;
  std::shared_ptr<smtp::MessageSink> bounces_;
  std::shared_ptr<smtp::MessageSink> spool_;
};

}  // namespace salvo
