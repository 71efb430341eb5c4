// LB_RETURN_IF_ERROR / LB_ASSIGN_OR_RETURN: early return on a failed
// absl::Status or absl::StatusOr (Abseil 20220623 has no such macros).
#pragma once

#include <utility>

#include "absl/status/status.h"
#include "absl/status/statusor.h"

#define LB_RETURN_IF_ERROR(expr)                  \
  do {                                            \
    if (absl::Status lb_status_ = (expr); !lb_status_.ok()) return lb_status_; \
  } while (0)

#define LB_STATUS_CONCAT_INNER(a, b) a##b
#define LB_STATUS_CONCAT(a, b) LB_STATUS_CONCAT_INNER(a, b)

#define LB_ASSIGN_OR_RETURN(lhs, expr) \
  LB_ASSIGN_OR_RETURN_IMPL(LB_STATUS_CONCAT(lb_statusor_, __LINE__), lhs, expr)
#define LB_ASSIGN_OR_RETURN_IMPL(tmp, lhs, expr) \
  auto tmp = (expr);                             \
  if (!tmp.ok()) return std::move(tmp).status(); \
  lhs = *std::move(tmp)
