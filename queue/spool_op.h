// SpoolOp<R>: a spool operation; see engine/loop/async_op.h for how to
// consume one (co_await on a ring, Wait() elsewhere, Then(f)).
#pragma once

#include "engine/loop/async_op.h"

namespace salvo::queue {

template <typename R>
using SpoolOp = AsyncOp<R>;

}  // namespace salvo::queue
