// Status propagation helpers for plain functions and for coroutines.
//
// RETURN_IF_ERROR / ASSIGN_OR_RETURN are for ordinary functions returning
// absl::Status or absl::StatusOr<T>; CO_RETURN_IF_ERROR / CO_ASSIGN_OR_RETURN
// are the same for coroutines returning Task<absl::Status> or
// Task<absl::StatusOr<T>>. Written once here, used everywhere.
#pragma once

#include <utility>

#include "absl/status/status.h"
#include "absl/status/statusor.h"

#define SALVO_CONCAT_INNER(a, b) a##b
#define SALVO_CONCAT(a, b) SALVO_CONCAT_INNER(a, b)

namespace salvo::internal {
inline const absl::Status& AsStatus(const absl::Status& s) { return s; }
template <typename T>
const absl::Status& AsStatus(const absl::StatusOr<T>& s) {
  return s.status();
}
}  // namespace salvo::internal

#define RETURN_IF_ERROR(expr)                                                  \
  do {                                                                         \
    if (auto _st = (expr); !_st.ok()) return ::salvo::internal::AsStatus(_st); \
  } while (0)

#define ASSIGN_OR_RETURN(lhs, expr) \
  SALVO_ASSIGN_OR_RETURN_IMPL(SALVO_CONCAT(_statusor_, __LINE__), lhs, expr, return )

#define CO_RETURN_IF_ERROR(expr)                                                  \
  do {                                                                            \
    if (auto _st = (expr); !_st.ok()) co_return ::salvo::internal::AsStatus(_st); \
  } while (0)

#define CO_ASSIGN_OR_RETURN(lhs, expr) \
  SALVO_ASSIGN_OR_RETURN_IMPL(SALVO_CONCAT(_statusor_, __LINE__), lhs, expr, co_return )

#define SALVO_ASSIGN_OR_RETURN_IMPL(tmp, lhs, expr, ret) \
  auto tmp = (expr);                                     \
  if (!tmp.ok()) ret std::move(tmp).status();            \
  lhs = std::move(tmp).value()
