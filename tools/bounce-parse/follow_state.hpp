#pragma once
// --follow: which messages of a Maildir earlier runs have read. The state file (documented in
// bounce-parse(1), FILES) is text: the line "bounce-parse-state 1", then the unique part of one
// Maildir file name a line (the name up to its ":2,flags" info, which mail readers change).
// It is replaced atomically (temporary file, fsync, rename) and only after the results were
// written, so a crash reads a message twice rather than never. A lock file beside it keeps two
// runs from overlapping.
#include <set>
#include <string>

namespace bounce_parse {

class FollowState {
 public:
  // Locks and loads the state (a missing file is an empty state). Throws Failure 75 when
  // another run holds the lock, 65 when the file is not a state file.
  explicit FollowState(std::string path);
  ~FollowState();
  FollowState(const FollowState&) = delete;
  FollowState& operator=(const FollowState&) = delete;

  bool seen(const std::string& file) const;
  void mark(const std::string& file);
  // Writes what is seen now, keeping only files that still exist in the Maildir (present).
  void save(const std::set<std::string>& present);

  static std::string unique_name(const std::string& file);  // "new/123.M1P2.host:2,S" -> "123.M1P2.host"

 private:
  std::string path_;
  int lock_fd_ = -1;
  std::set<std::string> seen_;
};

}  // namespace bounce_parse
