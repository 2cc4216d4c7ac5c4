// A uv_poll_t for an fd that JS may close at any moment and whose environment (a worker thread)
// may be torn down while the handle is open or still closing.
//
// libuv frees a handle on a later loop turn, by calling the close callback given to uv_close. A
// worker's last loop turns run after Node has unloaded the addon, so a close callback still
// pending then jumps into unmapped code. Every handle therefore holds an async cleanup hook
// (Node-API 8): at environment exit the hook closes the handle if its owner has not, and the
// environment waits until the close callback, which removes the hook, has run.
#pragma once
#include <node_api.h>
#include <uv.h>

namespace clatbar {

class PollHandle {
 public:
  // Starts watching `fd` for `owner` (handed to the poll callback as handle->data) and stores the
  // handle in *slot; Close() or environment exit clears *slot. Returns 0 or a libuv error.
  static int Open(napi_env env, uv_loop_t* loop, int fd, bool socket, void* owner, PollHandle** slot) {
    PollHandle* h = new PollHandle();
    int r = socket ? uv_poll_init_socket(loop, &h->poll_, fd) : uv_poll_init(loop, &h->poll_, fd);
    if (r != 0) {
      delete h;  // a failed init leaves nothing registered with the loop
      return r;
    }
    h->poll_.data = owner;
    if (napi_add_async_cleanup_hook(env, EnvExit, h, &h->hook_) != napi_ok) {
      h->slot_ = nullptr;
      h->Close();
      return UV_ENOMEM;
    }
    h->slot_ = slot;
    *slot = h;
    return 0;
  }

  int Start(int events, uv_poll_cb cb) { return uv_poll_start(&poll_, events, cb); }
  int Stop() { return uv_poll_stop(&poll_); }

  // Stops watching at once (uv_poll_stop takes the fd out of epoll, so the fd may be closed right
  // after) and lets libuv free the handle later. The owner's pointer is cleared; do not use it.
  void Close() {
    if (slot_) *slot_ = nullptr;
    slot_ = nullptr;
    if (closing_) return;
    closing_ = true;
    uv_poll_stop(&poll_);
    poll_.data = nullptr;
    uv_close(reinterpret_cast<uv_handle_t*>(&poll_), Closed);
  }

 private:
  PollHandle() = default;

  static void Closed(uv_handle_t* h) {
    // poll_ is the first member of a standard-layout class: its address is the object's.
    PollHandle* self = reinterpret_cast<PollHandle*>(h);
    if (self->hook_) napi_remove_async_cleanup_hook(self->hook_);
    delete self;
  }

  static void EnvExit(napi_async_cleanup_hook_handle, void* arg) { static_cast<PollHandle*>(arg)->Close(); }

  uv_poll_t poll_;
  napi_async_cleanup_hook_handle hook_ = nullptr;
  PollHandle** slot_ = nullptr;
  bool closing_ = false;
};

}  // namespace clatbar
