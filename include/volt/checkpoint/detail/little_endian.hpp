#pragma once
// Fixed-width little-endian integers for volt's file formats (the checkpoint preamble and the
// safetensors header size). Written byte by byte, so the files are the same on every host;
// tensor payloads are raw host memory, hence the little-endian requirement below.
#include <bit>
#include <cstddef>
#include <cstdint>
#include <string>
#include <string_view>

namespace volt::checkpoint::detail {

static_assert(std::endian::native == std::endian::little,
              "volt: checkpoint and safetensors files store tensors as raw little-endian bytes; "
              "big-endian hosts are not supported");

template <class UInt>
void append_le(std::string& out, UInt value) {
  for (std::size_t i = 0; i < sizeof(UInt); ++i) out.push_back(static_cast<char>((value >> (8 * i)) & 0xFFu));
}

// Reads sizeof(UInt) bytes at `at`; the caller has checked that they exist.
template <class UInt>
UInt load_le(std::string_view bytes, std::size_t at) noexcept {
  UInt value = 0;
  for (std::size_t i = 0; i < sizeof(UInt); ++i)
    value |= static_cast<UInt>(static_cast<unsigned char>(bytes[at + i])) << (8 * i);
  return value;
}

}  // namespace volt::checkpoint::detail
