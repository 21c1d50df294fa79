#pragma once
// The container format of a volt checkpoint: named sections, each a tensor dict (state_dict,
// optimizer state, RNG states), a JSON document (loop counters, callback state, hparams), a byte
// blob, or a torch::serialize archive (what libtorch optimizers save themselves into).
//
// Layout (all integers little-endian):
//   0   8 bytes  magic "VOLTCKPT"
//   8   u32      format version (1)
//   12  u64      H, the length of the JSON header
//   20  u32      CRC-32 (zlib) of bytes 8..20 followed by the header
//   24  H bytes  JSON header: {"format": "volt-checkpoint", "volt_version": "0.1.0",
//                 "sections": [{"name", "kind", "offset", "length", "crc32"}, ...]}
//   24+H         the payloads, in header order, back to back; offsets are relative to 24+H
//
// Why this shape: a resume must fail loudly and early on a damaged file instead of training from
// garbage, so CheckpointReader::open() reads the whole file and checks everything before anything
// is handed out: magic, version, header CRC and JSON, that every section lies inside the file and
// that the sections tile the payload area exactly (no gaps, no overlap, no trailing bytes), every
// section's CRC, and each section's own format. Every byte is thus either compared with a constant
// or covered by a CRC-32, which detects every error confined to 32 consecutive bits: any change to
// a single byte, and any truncation, is reported, never loaded. Errors are CheckpointError naming
// the file and the first thing wrong.
//
// A "tensors" section is itself a complete safetensors image (checkpoint/safetensors.hpp) in the
// caller's order: the same validated codec, and a section cut out of the file is a .safetensors
// file other tools can read. Tensors are stored as raw bytes with dtype and shape in JSON, not
// with torch::save, so that reading never hands unchecked bytes to a pickle/zip parser; only
// "torch_archive" sections (explicitly requested) reach torch's parser, after their CRC passed.
//
// The reader keeps the file's bytes in memory (shared between copies of the reader): loading a
// checkpoint needs memory for the file plus the tensors made from it.
#include <zlib.h>

#include <algorithm>
#include <cstdint>
#include <cstring>
#include <filesystem>
#include <fstream>
#include <iterator>
#include <map>
#include <memory>
#include <optional>
#include <ostream>
#include <set>
#include <sstream>
#include <stdexcept>
#include <string>
#include <string_view>
#include <utility>
#include <vector>

#include <fmt/format.h>
#include <nlohmann/json_fwd.hpp>
#include <torch/serialize/input-archive.h>
#include <torch/serialize/output-archive.h>
#include <torch/types.h>

#include <volt/checkpoint/atomic_file.hpp>
#include <volt/checkpoint/detail/little_endian.hpp>
#include <volt/checkpoint/error.hpp>
#include <volt/checkpoint/named_tensors.hpp>
#include <volt/checkpoint/safetensors.hpp>
#include <volt/version.hpp>
#include <volt/detail/config.hpp>

namespace volt::checkpoint {

inline constexpr std::string_view checkpoint_magic = "VOLTCKPT";
inline constexpr std::uint32_t checkpoint_format_version = 1;
inline constexpr std::size_t checkpoint_preamble_size = 24;  // magic, version, header length, header CRC

enum class SectionKind { tensors, json, bytes, torch_archive };

// The name a kind has in the header.
constexpr std::string_view to_string(SectionKind kind) noexcept {
  switch (kind) {
    case SectionKind::tensors:
      return "tensors";
    case SectionKind::json:
      return "json";
    case SectionKind::bytes:
      return "bytes";
    case SectionKind::torch_archive:
      return "torch_archive";
  }
  return "?";
}

// A section as the header lists it; offset is relative to the start of the payloads.
struct SectionInfo {
  std::string name;
  SectionKind kind = SectionKind::bytes;
  std::uint64_t offset = 0;
  std::uint64_t length = 0;
  std::uint32_t crc32 = 0;
};

namespace detail {

VOLT_INLINE std::uint32_t crc32_update(std::uint32_t crc, std::string_view bytes) noexcept;

// a + b + c in decimal, exact even where a corrupt length makes the sum overflow 64 bits.
VOLT_INLINE std::string sum_text(std::uint64_t a, std::uint64_t b, std::uint64_t c = 0);

VOLT_INLINE std::optional<SectionKind> section_kind(std::string_view name) noexcept;

}  // namespace detail

// Collects sections, then writes them as one checkpoint file, atomically. Each add_* takes a
// snapshot (tensors are copied to CPU bytes at once), so training may go on before write().
// Section names are unique and non-empty; misuse throws std::invalid_argument.
class CheckpointWriter {
 public:
  VOLT_INLINE void add_tensors(std::string name, const NamedTensors& tensors);

  VOLT_INLINE void add_json(std::string name, const nlohmann::json& value);

  VOLT_INLINE void add_bytes(std::string name, std::string bytes);

  // A torch::serialize archive, e.g. filled by optimizer.save(archive).
  VOLT_INLINE void add_archive(std::string name, torch::serialize::OutputArchive& archive);

  VOLT_INLINE bool has(std::string_view name) const noexcept;

  // The whole file, streamed (payloads are not concatenated in memory).
  VOLT_INLINE void write_to(std::ostream& out) const;

  VOLT_INLINE std::string to_bytes() const;

  // Writes the checkpoint to `path` atomically: the previous file stays intact if anything fails.
  VOLT_INLINE void write(const std::filesystem::path& path) const;

 private:
  struct Pending {
    std::string name;
    SectionKind kind;
    std::string payload;
  };

  VOLT_INLINE void check_new_name(const std::string& name) const;

  std::vector<Pending> sections_;
};

// A JSON document that templates fill and pass on by reference: made and destroyed by compiled
// code, so a user TU in the separately compiled mode never needs nlohmann::json defined.
class JsonDocument {
 public:
  VOLT_INLINE JsonDocument();
  VOLT_INLINE ~JsonDocument();
  JsonDocument(const JsonDocument&) = delete;
  JsonDocument& operator=(const JsonDocument&) = delete;
  nlohmann::json& get() noexcept { return *value_; }
  const nlohmann::json& get() const noexcept { return *value_; }
  VOLT_INLINE bool is_null() const noexcept;

 private:
  std::unique_ptr<nlohmann::json> value_;
};

// A checkpoint file, validated in full by open(); the accessors then only decode.
class CheckpointReader {
 public:
  // Declared here, defaulted in the .ipp: in the separately compiled mode a user TU calls them
  // instead of compiling the members' map / json / string destructors and moves again.
  VOLT_INLINE CheckpointReader(const CheckpointReader&);
  VOLT_INLINE CheckpointReader(CheckpointReader&&) noexcept;
  VOLT_INLINE CheckpointReader& operator=(const CheckpointReader&);
  VOLT_INLINE CheckpointReader& operator=(CheckpointReader&&) noexcept;
  VOLT_INLINE ~CheckpointReader();

  VOLT_INLINE static CheckpointReader open(const std::filesystem::path& path);

  // Validates an in-memory checkpoint image; `path` only names it in messages.
  VOLT_INLINE static CheckpointReader from_bytes(std::string bytes, const std::filesystem::path& path);

  const std::filesystem::path& path() const noexcept { return path_; }
  // The version of volt that wrote the file.
  const std::string& volt_version() const noexcept { return volt_version_; }
  // Every section, in file order.
  const std::vector<SectionInfo>& sections() const noexcept { return sections_; }

  bool has(std::string_view name) const noexcept { return find(name) != nullptr; }

  VOLT_INLINE NamedTensors tensors(std::string_view name) const;

  // A JSON section's document, owned by the reader (and its copies). By reference, compiled: a
  // user TU passes it on without <nlohmann/json.hpp> (fast mode). On a temporary reader, a copy.
  VOLT_INLINE const nlohmann::json& json(std::string_view name) const&;
  VOLT_INLINE nlohmann::json json(std::string_view name) const&&;

  std::string bytes(std::string_view name) const { return std::string(get(name, SectionKind::bytes).payload); }

  // A torch::serialize archive section, e.g. for optimizer.load(archive); `device` remaps its
  // tensors (state saved on a GPU, loaded on the CPU), as torch::load's device argument does.
  VOLT_INLINE torch::serialize::InputArchive archive(std::string_view name, std::optional<torch::Device> device = {}) const;

 private:
  struct Section {
    SectionInfo info;
    std::string_view payload;          // into *data_
    // kind json: the parsed document (shared by copies of the reader; a pointer, so that this
    // header needs only <nlohmann/json_fwd.hpp>).
    std::shared_ptr<const nlohmann::json> json;
    detail::SafetensorsIndex tensors;  // kind tensors: the validated index
    std::string_view tensor_data;      // kind tensors: the image's byte buffer
  };

  VOLT_INLINE CheckpointReader();

  VOLT_INLINE CheckpointError error(std::string_view problem) const;

  VOLT_INLINE const Section* find(std::string_view name) const noexcept;

  VOLT_INLINE const Section& get(std::string_view name, SectionKind kind) const;

  VOLT_INLINE void validate();

  // A tensors section is a safetensors image; validate it with the safetensors reader's rules.
  VOLT_INLINE void parse_tensor_section(Section& s, std::uint64_t payload_start) const;

  std::filesystem::path path_;
  std::shared_ptr<const std::string> data_;
  std::string volt_version_;
  std::vector<SectionInfo> sections_;
  std::vector<Section> parsed_;
};

}  // namespace volt::checkpoint

#if !defined(VOLT_SEPARATE_COMPILATION)
#include <volt/checkpoint/impl/checkpoint_file.ipp>
#endif
