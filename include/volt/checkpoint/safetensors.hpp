#pragma once
// safetensors (https://github.com/huggingface/safetensors), the weight format of the Hugging Face
// ecosystem: a file that Python's safetensors.torch.load_file, candle, llama.cpp's converters
// and others read, and that cannot run code when loaded (unlike a pickle).
//
// Layout, following the spec exactly:
//   8 bytes     N, unsigned little-endian
//   N bytes     UTF-8 JSON object, starting with '{', padded with spaces to a multiple of 8:
//               {"__metadata__": {"k": "v"}, "name": {"dtype": "F32", "shape": [2, 3],
//                "data_offsets": [begin, end]}, ...}     (offsets relative to the byte buffer)
//   the rest    the byte buffer: every tensor's bytes, little-endian, C order, no holes, no overlaps
//
// Writing: tensors are laid out as the reference implementation does (descending dtype order
// I64, F64, F32, I32, BF16, F16, I16, I8, U8, BOOL, then by name), the JSON is compact with
// "__metadata__" first and the tensors in layout order, and "__metadata__" is written only when
// there is some. With the 8-byte padding this keeps every tensor aligned to its element size,
// and for the same tensors and at most one metadata key (the reference keeps metadata in a hash
// map; volt sorts it by key) the file is byte-identical to safetensors.torch.save_file's.
// The file is written atomically (checkpoint/atomic_file.hpp).
//
// Reading validates everything before a tensor is allocated and throws CheckpointError naming the
// file and the problem: the header size against the file size (and the reference's 100 MB cap),
// the JSON (also duplicate keys, which the spec forbids and JSON parsers silently accept), each
// entry's dtype, shape and offsets, byte size == numel * itemsize, and that the tensors cover the
// whole buffer without holes or overlaps. Two checks go beyond the reference: the header must
// start with '{' (the reference's intent, see its InvalidHeaderStart), and BOOL bytes must be 0 or
// 1, since any other byte in a torch.bool tensor is undefined behaviour. safetensors has no
// checksum: a changed data byte loads as a different value; volt's own checkpoints have CRCs.
// Loaded tensors come back in file order (by data offset), on the CPU.
#include <algorithm>
#include <array>
#include <cstdint>
#include <cstring>
#include <filesystem>
#include <fstream>
#include <limits>
#include <map>
#include <optional>
#include <ostream>
#include <set>
#include <stdexcept>
#include <string>
#include <string_view>
#include <utility>
#include <vector>

#include <fmt/format.h>
#include <torch/types.h>

#include <volt/checkpoint/atomic_file.hpp>
#include <volt/checkpoint/detail/little_endian.hpp>
#include <volt/checkpoint/error.hpp>
#include <volt/checkpoint/named_tensors.hpp>
#include <volt/detail/config.hpp>

namespace volt::checkpoint {

// What a safetensors file holds besides its tensors: the free-form string map "__metadata__".
struct SafetensorsContents {
  NamedTensors tensors;                         // in file order
  std::map<std::string, std::string> metadata;  // empty when the file has none
};

namespace detail {

struct SafetensorsDtype {
  std::string_view name;  // as in the header: "F32"
  torch::ScalarType type;
  std::size_t size;    // bytes per element
  int reference_rank;  // position in the reference implementation's Dtype enum
};

// The dtypes volt reads and writes; ranks from the reference's `enum Dtype`, which it sorts by.
inline constexpr std::array<SafetensorsDtype, 10> safetensors_dtypes{{
    {"BOOL", torch::kBool, 1, 0},
    {"U8", torch::kUInt8, 1, 1},
    {"I8", torch::kInt8, 1, 2},
    {"I16", torch::kInt16, 2, 5},
    {"F16", torch::kFloat16, 2, 7},
    {"BF16", torch::kBFloat16, 2, 8},
    {"I32", torch::kInt32, 4, 9},
    {"F32", torch::kFloat32, 4, 11},
    {"F64", torch::kFloat64, 8, 12},
    {"I64", torch::kInt64, 8, 13},
}};

VOLT_INLINE const SafetensorsDtype* safetensors_dtype(std::string_view name) noexcept;
VOLT_INLINE const SafetensorsDtype* safetensors_dtype(torch::ScalarType type) noexcept;

VOLT_INLINE std::string supported_dtype_names();

// The reference's cap on the header; it also bounds what a corrupt size field can make us allocate.
inline constexpr std::uint64_t safetensors_max_header = 100'000'000;

// A tensor the header describes, validated against the buffer it indexes.
struct SafetensorsEntry {
  std::string name;
  const SafetensorsDtype* dtype = nullptr;
  std::vector<std::int64_t> shape;
  std::uint64_t begin = 0, end = 0;  // relative to the byte buffer
};

struct SafetensorsIndex {
  std::vector<SafetensorsEntry> entries;  // by data offset
  std::map<std::string, std::string> metadata;
};

// Names what is being read in messages: `safetensors file "/x/model.safetensors"`, or a
// section of a volt checkpoint (whose tensor sections are safetensors images).
struct Subject {
  std::filesystem::path file;
  std::string text;
  VOLT_INLINE CheckpointError error(std::string_view problem) const;
};

VOLT_INLINE std::string shape_text(const std::vector<std::int64_t>& shape);

// Parses and validates a safetensors header against a byte buffer of `buffer_size` bytes.
// `buffer_offset` (where the buffer starts in the file) only makes messages show file offsets.
VOLT_INLINE SafetensorsIndex parse_safetensors_header(std::string_view header, std::uint64_t buffer_size,
                                                 std::uint64_t buffer_offset, const Subject& subject);

// A torch.bool tensor holding a byte other than 0 or 1 is undefined behaviour in torch.
VOLT_INLINE void check_bool_bytes(const SafetensorsEntry& e, const unsigned char* data, const Subject& subject);

// Rejects what safetensors cannot hold, before anything is written.
VOLT_INLINE const SafetensorsDtype& check_writable(const std::string& name, const torch::Tensor& t, std::string_view where);

// Writes a safetensors image of `tensors` in the given order (the spec allows any order).
VOLT_INLINE void write_safetensors_image(std::ostream& out, const NamedTensors& tensors,
                                    const std::map<std::string, std::string>& metadata, std::string_view where);

// The reference implementation's layout: descending dtype rank, then name.
VOLT_INLINE NamedTensors in_reference_order(const NamedTensors& tensors, std::string_view where);

}  // namespace detail

// Writes `tensors` (any device; copied to the CPU one at a time) as a safetensors file, atomically.
// Throws std::invalid_argument for tensors the format cannot hold (undefined, sparse, complex,
// duplicate names, the name "__metadata__") and CheckpointError when the file cannot be written.
VOLT_INLINE void save_safetensors(const std::filesystem::path& path, const NamedTensors& tensors,
                             const std::map<std::string, std::string>& metadata = {});

// Reads a safetensors file: its tensors (CPU, in file order) and its "__metadata__".
VOLT_INLINE SafetensorsContents read_safetensors(const std::filesystem::path& path);

// Reads the tensors of a safetensors file (CPU, in file order).
inline NamedTensors load_safetensors(const std::filesystem::path& path) { return read_safetensors(path).tensors; }

}  // namespace volt::checkpoint

#if !defined(VOLT_SEPARATE_COMPILATION)
#include <volt/checkpoint/impl/safetensors.ipp>
#endif
