// JavaScript errors for failed system calls: `code` is the errno name (EPERM), `errno` the
// number, `syscall` what failed, and the message says what to do about it, because the person
// reading it is usually configuring a laptop, not debugging C++.
#pragma once
#include <napi.h>

#include <string>

namespace clatbar {

// Name of an errno value ("EPERM"); "E<number>" when unknown.
std::string ErrnoName(int err);

// An Error whose message is "<what>: <syscall> failed with <CODE> (<strerror>): <hint>".
// `hint` may be empty; then a generic hint for the errno is used when there is one.
Napi::Error ErrnoError(Napi::Env env, int err, const char* syscall, const std::string& what,
                       const std::string& hint = "");

}  // namespace clatbar
