#pragma once
// The file I/O the intake journal and its recovery share. Each throws relay::Failure
// (relay::SpoolFull when the disk is full) naming what.
#include <cstdint>
#include <string>
#include <string_view>

namespace smtp_listen::journal {

void write_at(int fd, std::string_view bytes, uint64_t offset, const std::string& what);
std::string read_whole(int fd, const std::string& what);  // from offset 0 to the end
void sync_file(int fd, const std::string& what);  // fsync
int open_directory(const std::string& path);
void sync_directory(const std::string& path);

}  // namespace smtp_listen::journal
