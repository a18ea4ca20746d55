#include "session_cache.hpp"

namespace mxdeliver {

std::unique_ptr<relay::smtp::Session> SessionCache::take(const std::string& key) {
  for (;;) {
    Idle idle;
    {
      std::lock_guard lock(mutex_);
      auto it = idle_.find(key);
      if (it == idle_.end() || it->second.empty()) return nullptr;
      idle = std::move(it->second.back());
      it->second.pop_back();
    }
    if (Clock::now() - idle.since > idle_limit_) {
      idle.session->quit();
      continue;
    }
    if (idle.session->reset()) return std::move(idle.session);
  }
}

void SessionCache::put(const std::string& key, std::unique_ptr<relay::smtp::Session> session) {
  if (session->transactions() >= max_per_connection_) {
    session->quit();
    return;
  }
  std::lock_guard lock(mutex_);
  idle_[key].push_back({std::move(session), Clock::now()});
}

void SessionCache::close_all() {
  std::map<std::string, std::vector<Idle>> all;
  {
    std::lock_guard lock(mutex_);
    all.swap(idle_);
  }
  for (auto& [key, list] : all)
    for (auto& idle : list) idle.session->quit();
}

void SessionCache::close_idle() {
  std::vector<Idle> expired;
  {
    std::lock_guard lock(mutex_);
    const auto now = Clock::now();
    for (auto& [key, list] : idle_) {
      for (auto& idle : list)
        if (now - idle.since > idle_limit_) expired.push_back(std::move(idle));
      std::erase_if(list, [](const Idle& idle) { return !idle.session; });
    }
  }
  for (auto& idle : expired) idle.session->quit();
}

void DestinationSlots::acquire(const std::string& key) {
  std::unique_lock lock(mutex_);
  freed_.wait(lock, [&] { return busy_[key] < limit_; });
  ++busy_[key];
}

void DestinationSlots::release(const std::string& key) {
  {
    std::lock_guard lock(mutex_);
    if (--busy_[key] == 0) busy_.erase(key);
  }
  freed_.notify_all();
}

}  // namespace mxdeliver
