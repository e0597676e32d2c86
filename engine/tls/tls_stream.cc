#include "engine/tls/tls_stream.h"

#include <arpa/inet.h>
#include <openssl/buffer.h>
#include <openssl/err.h>
#include <openssl/ssl.h>
#include <openssl/x509.h>
#include <openssl/x509v3.h>

#include <algorithm>
#include <cerrno>

#include "absl/strings/str_cat.h"
#include "engine/base/status_macros.h"
#include "engine/base/strings.h"
#include "engine/loop/ops.h"
#include "engine/tls/openssl_error.h"
#include "engine/tls/openssl_glue.h"

namespace salvo {

using tls_internal::ClearOpenSslErrors;
using tls_internal::OpenSslError;
using tls_internal::OpenSslErrorText;

namespace {

// Buffers (ours and the memory BIOs) larger than this are given back once
// empty, so an idle TLS connection costs little beyond OpenSSL's session.
constexpr size_t kKeepCapacity = 8192;
// Ciphertext moved from the write BIO to the transport per send.
constexpr size_t kSendChunk = 64 * 1024;

BIO* NewMemBio() {
  BIO* b = BIO_new(BIO_s_mem());
  // An empty BIO means "retry later", never end of file: the end of the
  // stream is decided here, from the transport.
  if (b != nullptr) BIO_set_mem_eof_return(b, -1);
  return b;
}

size_t BioCapacity(BIO* b) {
  BUF_MEM* mem = nullptr;
  BIO_get_mem_ptr(b, &mem);
  return mem != nullptr ? mem->max : 0;
}

absl::Status SetUpClient(SSL* ssl, TlsVerify verify, const std::string& sni) {
  bool ip = tls_glue::IsIpLiteral(sni);
  // RFC 6066: SNI carries host names only, never address literals.
  if (!sni.empty() && !ip && SSL_set_tlsext_host_name(ssl, sni.c_str()) != 1) {
    return OpenSslError(absl::StatusCode::kInvalidArgument, "TLS server name '" + sni + "'");
  }
  if (verify == TlsVerify::kRequired && sni.empty()) {
    return absl::InvalidArgumentError("required TLS verification needs the peer's host name");
  }
  if (verify != TlsVerify::kOff && !sni.empty()) {
    X509_VERIFY_PARAM* param = SSL_get0_param(ssl);
    X509_VERIFY_PARAM_set_hostflags(param, X509_CHECK_FLAG_NO_PARTIAL_WILDCARDS);
    int ok = ip ? X509_VERIFY_PARAM_set1_ip_asc(param, sni.c_str())
                : X509_VERIFY_PARAM_set1_host(param, sni.c_str(), sni.size());
    if (ok != 1) {
      return OpenSslError(absl::StatusCode::kInvalidArgument, "TLS peer name '" + sni + "'");
    }
  }
  // Opportunistic: OpenSSL still verifies and records the result, but
  // carries on; required: a failed verification aborts the handshake.
  SSL_set_verify(ssl, verify == TlsVerify::kRequired ? SSL_VERIFY_PEER : SSL_VERIFY_NONE, nullptr);
  SSL_set_connect_state(ssl);
  return absl::OkStatus();
}

}  // namespace

TlsStream::TlsStream(ssl_st* ssl, bio_st* rbio, bio_st* wbio, Stream* transport, TlsRole role)
    : ssl_(ssl), rbio_(rbio), wbio_(wbio), transport_(transport), role_(role) {}

TlsStream::~TlsStream() { SSL_free(ssl_); }  // frees both BIOs

int TlsStream::fd() const { return transport_->fd(); }

Task<absl::StatusOr<std::unique_ptr<TlsStream>>> TlsStream::Handshake(TlsContext& context,
                                                                      Stream* transport,
                                                                      TlsRole role, std::string sni,
                                                                      Deadline deadline) {
  bool client = role == TlsRole::kClient;
  if (client != (context.side() == TlsContext::Side::kClient)) {
    co_return absl::FailedPreconditionError(client ? "TLS client handshake with a server context"
                                                   : "TLS server handshake with a client context");
  }
  ClearOpenSslErrors();
  SSL* ssl = SSL_new(context.raw());
  if (ssl == nullptr) co_return OpenSslError(absl::StatusCode::kInternal, "SSL_new");
  BIO* rbio = NewMemBio();
  BIO* wbio = NewMemBio();
  if (rbio == nullptr || wbio == nullptr) {
    BIO_free(rbio);
    BIO_free(wbio);
    SSL_free(ssl);
    co_return OpenSslError(absl::StatusCode::kResourceExhausted, "BIO_new");
  }
  SSL_set_bio(ssl, rbio, wbio);
  std::unique_ptr<TlsStream> stream(new TlsStream(ssl, rbio, wbio, transport, role));
  if (client) {
    stream->server_name_ = sni;
    CO_RETURN_IF_ERROR(SetUpClient(ssl, context.verify(), sni));
  } else {
    SSL_set_accept_state(ssl);
  }
  CO_RETURN_IF_ERROR(co_await stream->RunHandshake(deadline));
  stream->RecordPeer(context.verify());
  co_return std::move(stream);
}

Task<absl::Status> TlsStream::RunHandshake(Deadline deadline) {
  for (;;) {
    ClearOpenSslErrors();
    int r = SSL_do_handshake(ssl_);
    if (r == 1) co_return co_await Flush(deadline);  // our Finished, session tickets
    int e = SSL_get_error(ssl_, r);
    if (e == SSL_ERROR_WANT_READ || e == SSL_ERROR_WANT_WRITE) {
      CO_RETURN_IF_ERROR(co_await Flush(deadline));
      if (e == SSL_ERROR_WANT_WRITE) continue;
      CO_ASSIGN_OR_RETURN(bool more, co_await Fill(deadline));
      if (!more) {
        co_return Fail(
            absl::UnavailableError("peer closed the connection during the TLS handshake"));
      }
      continue;
    }
    absl::Status error;
    long verify = SSL_get_verify_result(ssl_);
    if (role_ == TlsRole::kClient && verify != X509_V_OK &&
        SSL_get_verify_mode(ssl_) != SSL_VERIFY_NONE) {
      error = absl::PermissionDeniedError(absl::StrCat(
          "TLS certificate of ", server_name_, " not verified: ",
          X509_verify_cert_error_string(verify), " (", OpenSslErrorText("handshake"), ")"));
    } else {
      error = ErrorFromSsl(r, "TLS handshake failed");
    }
    // Best effort: send the alert OpenSSL queued, so the peer learns why.
    (void)co_await Flush(std::min(deadline, After(std::chrono::seconds(1))));
    co_return Fail(std::move(error));
  }
}

void TlsStream::RecordPeer(TlsVerify verify) {
  if (role_ == TlsRole::kServer) {
    const char* name = SSL_get_servername(ssl_, TLSEXT_NAMETYPE_host_name);
    if (name != nullptr) server_name_ = name;
  }
  X509* peer = SSL_get0_peer_certificate(ssl_);
  if (peer != nullptr) {
    char buf[512];
    X509_NAME_oneline(X509_get_subject_name(peer), buf, sizeof buf);
    peer_subject_ = buf;
  }
  if (role_ != TlsRole::kClient || verify == TlsVerify::kOff) return;
  if (peer == nullptr) {
    verify_error_ = "no certificate presented";
    return;
  }
  long result = SSL_get_verify_result(ssl_);
  peer_verified_ = result == X509_V_OK;
  if (!peer_verified_) verify_error_ = X509_verify_cert_error_string(result);
}

std::string_view TlsStream::protocol() const { return SSL_get_version(ssl_); }

std::string_view TlsStream::cipher() const {
  const char* name = SSL_get_cipher_name(ssl_);
  return name != nullptr ? name : "";
}

int TlsStream::cipher_bits() const { return SSL_get_cipher_bits(ssl_, nullptr); }

std::string TlsStream::Summary() const {
  int alg_bits = 0;
  int bits = SSL_get_cipher_bits(ssl_, &alg_bits);
  std::string s = absl::StrCat(ToAbsl(protocol()), " with cipher ", ToAbsl(cipher()), " (", bits,
                               "/", alg_bits, " bits)");
  if (role_ == TlsRole::kClient) s += peer_verified_ ? " verified" : " unverified";
  return s;
}

absl::Status TlsStream::UpdateKeys(bool ask_peer) {
  if (!failed_.ok()) return failed_;
  if (SSL_version(ssl_) < TLS1_3_VERSION) {
    return absl::FailedPreconditionError("KeyUpdate needs TLS 1.3");
  }
  ClearOpenSslErrors();
  if (SSL_key_update(ssl_, ask_peer ? SSL_KEY_UPDATE_REQUESTED : SSL_KEY_UPDATE_NOT_REQUESTED) !=
      1) {
    return OpenSslError(absl::StatusCode::kFailedPrecondition, "TLS KeyUpdate");
  }
  return absl::OkStatus();
}

absl::Status TlsStream::Fail(absl::Status status) {
  if (failed_.ok()) failed_ = status;
  return status;
}

absl::Status TlsStream::ErrorFromSsl(int ret, std::string_view what) {
  int e = SSL_get_error(ssl_, ret);
  switch (e) {
    case SSL_ERROR_SSL:
      return absl::UnavailableError(ToAbsl(OpenSslErrorText(what)));
    case SSL_ERROR_SYSCALL:
      if (ERR_peek_error() == 0) {
        return absl::UnavailableError(absl::StrCat(ToAbsl(what), ": unexpected end of TLS data"));
      }
      return absl::UnavailableError(ToAbsl(OpenSslErrorText(what)));
    case SSL_ERROR_WANT_READ:
      return absl::UnavailableError(absl::StrCat(ToAbsl(what), ": peer asked for renegotiation"));
    default:
      return absl::InternalError(
          absl::StrCat(ToAbsl(OpenSslErrorText(what)), " (SSL_get_error ", e, ")"));
  }
}

Task<absl::StatusOr<bool>> TlsStream::Fill(Deadline deadline) {
  in_.clear();
  CO_ASSIGN_OR_RETURN(size_t n, co_await transport_->ReadSome(in_, deadline));
  if (n == 0) co_return false;
  // A memory BIO takes everything it is given (it grows); what it holds is
  // bounded because OpenSSL is only fed when it asked for more.
  if (BIO_write(rbio_, in_.data(), static_cast<int>(in_.size())) != static_cast<int>(in_.size())) {
    co_return Fail(OpenSslError(absl::StatusCode::kResourceExhausted, "TLS read buffer"));
  }
  in_.clear();
  if (in_.capacity() > kKeepCapacity) std::string().swap(in_);
  co_return true;
}

Task<absl::Status> TlsStream::Flush(Deadline deadline) {
  if (flushing_) co_return absl::OkStatus();  // the active flusher drains it all
  flushing_ = true;
  absl::Status status;
  while (BIO_ctrl_pending(wbio_) > 0) {
    out_.resize(std::min<size_t>(BIO_ctrl_pending(wbio_), kSendChunk));
    int n = BIO_read(wbio_, out_.data(), static_cast<int>(out_.size()));
    if (n <= 0) break;
    std::string_view part(out_.data(), n);
    status = co_await transport_->WriteAll({&part, 1}, deadline);
    if (!status.ok()) break;
  }
  flushing_ = false;
  out_.clear();
  if (out_.capacity() > kKeepCapacity) std::string().swap(out_);
  if (status.ok() && BIO_ctrl_pending(wbio_) == 0 && BioCapacity(wbio_) > kKeepCapacity &&
      SSL_is_init_finished(ssl_)) {
    if (BIO* fresh = NewMemBio()) {
      SSL_set0_wbio(ssl_, fresh);  // frees the old one
      wbio_ = fresh;
    }
  }
  if (flush_waiter_ != nullptr) Ring::Current()->Cancel(flush_waiter_);
  if (!status.ok()) co_return Fail(std::move(status));  // a record may be half sent
  co_return status;
}

Task<absl::Status> TlsStream::FlushAsWriter(Deadline deadline) {
  // The reader may be sending (a KeyUpdate reply): wait for it, then send
  // what the writer produced, so the write BIO never grows past one batch.
  while (flushing_) {
    SleepUntil wait(deadline);
    flush_waiter_ = &wait;
    IoResult r = co_await wait;
    flush_waiter_ = nullptr;
    if (r.res == -ETIME) {
      co_return Fail(absl::DeadlineExceededError("TLS write: deadline passed"));
    }
  }
  co_return co_await Flush(deadline);
}

Task<absl::StatusOr<size_t>> TlsStream::ReadSome(std::string& dst, Deadline deadline) {
  if (!failed_.ok()) co_return failed_;
  if (eof_) co_return 0;
  const size_t old = dst.size();
  for (;;) {
    ClearOpenSslErrors();
    dst.resize(old + kMaxRecord);
    size_t got = 0;
    int r = SSL_read_ex(ssl_, dst.data() + old, kMaxRecord, &got);
    dst.resize(old + (r == 1 ? got : 0));
    if (r == 1) {
      if (BIO_ctrl_pending(wbio_) > 0) CO_RETURN_IF_ERROR(co_await Flush(deadline));
      if (BIO_ctrl_pending(rbio_) == 0 && BioCapacity(rbio_) > kKeepCapacity) {
        if (BIO* fresh = NewMemBio()) {
          SSL_set0_rbio(ssl_, fresh);  // frees the old one
          rbio_ = fresh;
        }
      }
      co_return got;
    }
    int e = SSL_get_error(ssl_, r);
    if (e == SSL_ERROR_ZERO_RETURN) {  // the peer's close_notify
      eof_ = true;
      co_return 0;
    }
    if (e != SSL_ERROR_WANT_READ && e != SSL_ERROR_WANT_WRITE) {
      co_return Fail(ErrorFromSsl(r, "TLS read"));
    }
    if (BIO_ctrl_pending(wbio_) > 0) CO_RETURN_IF_ERROR(co_await Flush(deadline));
    if (e == SSL_ERROR_WANT_WRITE) continue;
    CO_ASSIGN_OR_RETURN(bool more, co_await Fill(deadline));
    if (!more) {  // TCP ended without close_notify
      eof_ = true;
      truncated_ = true;
      co_return 0;
    }
  }
}

absl::Status TlsStream::Encrypt(std::string_view plain) {
  ClearOpenSslErrors();
  size_t written = 0;
  int r = SSL_write_ex(ssl_, plain.data(), plain.size(), &written);
  if (r == 1 && written == plain.size()) return absl::OkStatus();
  return Fail(ErrorFromSsl(r, "TLS write"));
}

Task<absl::Status> TlsStream::WriteParts(std::span<const std::string_view> parts,
                                         Deadline deadline) {
  size_t batched = 0;  // plaintext encrypted since the last flush
  for (std::string_view part : parts) {
    while (!part.empty()) {
      if (staging_.empty() && part.size() >= kMaxRecord) {
        // Whole records straight from the caller's memory.
        CO_RETURN_IF_ERROR(Encrypt(part.substr(0, kMaxRecord)));
        part.remove_prefix(kMaxRecord);
        batched += kMaxRecord;
      } else {
        if (staging_.capacity() < kMaxRecord) staging_.reserve(kMaxRecord);
        size_t n = std::min(part.size(), kMaxRecord - staging_.size());
        staging_.append(part.substr(0, n));
        part.remove_prefix(n);
        if (staging_.size() == kMaxRecord) {
          CO_RETURN_IF_ERROR(Encrypt(staging_));
          staging_.clear();
          batched += kMaxRecord;
        }
      }
      if (batched >= kWriteBatch) {
        CO_RETURN_IF_ERROR(co_await FlushAsWriter(deadline));
        batched = 0;
      }
    }
  }
  if (!staging_.empty()) {
    CO_RETURN_IF_ERROR(Encrypt(staging_));
    staging_.clear();
  }
  co_return co_await FlushAsWriter(deadline);
}

Task<absl::Status> TlsStream::WriteAll(std::span<const std::string_view> parts, Deadline deadline) {
  if (!failed_.ok()) co_return failed_;
  if (shutdown_sent_) co_return absl::FailedPreconditionError("TLS write after close_notify");
  absl::Status status = co_await WriteParts(parts, deadline);
  staging_.clear();
  if (staging_.capacity() > kKeepCapacity) std::string().swap(staging_);
  co_return status;
}

Task<absl::Status> TlsStream::ShutdownWrite(Deadline deadline) {
  if (!failed_.ok()) co_return failed_;
  if (!shutdown_sent_) {
    shutdown_sent_ = true;
    ClearOpenSslErrors();
    int r = SSL_shutdown(ssl_);  // queues close_notify; 0 = the peer's not seen yet
    if (r < 0) {
      int e = SSL_get_error(ssl_, r);
      if (e != SSL_ERROR_WANT_READ && e != SSL_ERROR_WANT_WRITE) {
        co_return Fail(ErrorFromSsl(r, "TLS shutdown"));
      }
    }
    CO_RETURN_IF_ERROR(co_await FlushAsWriter(deadline));
  }
  co_return co_await transport_->ShutdownWrite(deadline);
}

}  // namespace salvo
