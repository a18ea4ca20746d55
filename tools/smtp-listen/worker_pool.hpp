#pragma once
// A few threads for the work that would stall the event loop (fsync of the spool, password
// hashing). Finished jobs are handed back to the loop through an eventfd, whose completions
// the loop runs itself, so sessions are only ever touched by the loop thread.
#include <condition_variable>
#include <deque>
#include <functional>
#include <mutex>
#include <thread>
#include <vector>

namespace smtp_listen {

class WorkerPool {
 public:
  explicit WorkerPool(int threads);
  ~WorkerPool();
  WorkerPool(const WorkerPool&) = delete;
  WorkerPool& operator=(const WorkerPool&) = delete;

  int event_fd() const { return event_fd_; }  // readable when completions wait
  void submit(std::function<void()> work, std::function<void()> done);
  void run_completions();                     // on the loop thread

 private:
  struct Job {
    std::function<void()> work;
    std::function<void()> done;
  };
  void worker();

  int event_fd_;
  std::mutex mutex_;
  std::condition_variable wake_;
  std::deque<Job> queue_;
  std::vector<std::function<void()>> finished_;
  bool stopping_ = false;
  std::vector<std::thread> threads_;
};

}  // namespace smtp_listen
