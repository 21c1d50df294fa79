// TensorBoard event files: CRC-32C known answers, golden bytes produced by Google's protobuf
// (Python, from the tensorboard .proto definitions) and a reference TFRecord writer, and a
// decoder written here from the wire format that reads the TensorBoardLogger's file back,
// checking every record's two CRCs with its own bitwise CRC-32C.
#include <volt/loggers/logger.hpp>
#include <volt/loggers/tensorboard_logger.hpp>
#include <volt/loggers/tfevents.hpp>

#include <catch2/catch.hpp>

#include <boost/hana/define_struct.hpp>

#include <chrono>
#include <cmath>
#include <cstdint>
#include <cstring>
#include <filesystem>
#include <map>
#include <optional>
#include <ostream>
#include <regex>
#include <stdexcept>
#include <string>
#include <string_view>
#include <vector>

#include "test_support.hpp"

namespace fs = std::filesystem;
namespace tfe = volt::loggers::tfevents;
using volt::loggers::TensorBoardLogger;
using volt_test::LogTempDir;

static_assert(volt::Logger<TensorBoardLogger>);

namespace {

// ---- an independent reader -------------------------------------------------------------------

std::uint32_t bitwise_crc32c(std::string_view data) {
  std::uint32_t crc = 0xFFFFFFFFu;
  for (unsigned char b : data) {
    crc ^= b;
    for (int k = 0; k < 8; ++k) crc = (crc >> 1) ^ ((crc & 1u) ? 0x82F63B78u : 0u);
  }
  return crc ^ 0xFFFFFFFFu;
}
std::uint32_t bitwise_masked(std::string_view data) {
  const std::uint32_t c = bitwise_crc32c(data);
  return ((c >> 15) | (c << 17)) + 0xa282ead8u;
}

std::uint64_t read_le(std::string_view s, std::size_t n) {
  std::uint64_t v = 0;
  for (std::size_t i = 0; i < n; ++i) v |= std::uint64_t{static_cast<unsigned char>(s[i])} << (8 * i);
  return v;
}

// Every record's data; throws when a length or data CRC does not match or a record is cut short.
std::vector<std::string> read_records(std::string_view file) {
  std::vector<std::string> out;
  while (!file.empty()) {
    if (file.size() < 12) throw std::runtime_error("truncated record header");
    const std::uint64_t len = read_le(file, 8);
    if (static_cast<std::uint32_t>(read_le(file.substr(8), 4)) != bitwise_masked(file.substr(0, 8)))
      throw std::runtime_error("length CRC mismatch");
    if (file.size() < 12 + len + 4) throw std::runtime_error("truncated record");
    const std::string_view data = file.substr(12, len);
    if (static_cast<std::uint32_t>(read_le(file.substr(12 + len), 4)) != bitwise_masked(data))
      throw std::runtime_error("data CRC mismatch");
    out.emplace_back(data);
    file.remove_prefix(12 + len + 4);
  }
  return out;
}

struct Field {
  std::uint32_t number = 0;
  std::uint32_t wire_type = 0;
  std::uint64_t scalar = 0;  // varint value, or the raw bits of a fixed64 / fixed32
  std::string bytes;         // length-delimited payload
};

std::vector<Field> parse_message(std::string_view s) {
  std::vector<Field> fields;
  std::size_t i = 0;
  const auto varint = [&] {
    std::uint64_t v = 0;
    for (int shift = 0;; shift += 7) {
      if (i >= s.size() || shift > 63) throw std::runtime_error("bad varint");
      const auto b = static_cast<unsigned char>(s[i++]);
      v |= std::uint64_t{b & 0x7Fu} << shift;
      if (!(b & 0x80u)) return v;
    }
  };
  while (i < s.size()) {
    const std::uint64_t key = varint();
    Field f;
    f.number = static_cast<std::uint32_t>(key >> 3);
    f.wire_type = static_cast<std::uint32_t>(key & 7);
    if (f.wire_type == 0) {
      f.scalar = varint();
    } else if (f.wire_type == 1 || f.wire_type == 5) {
      const std::size_t n = f.wire_type == 1 ? 8 : 4;
      if (i + n > s.size()) throw std::runtime_error("truncated fixed field");
      f.scalar = read_le(s.substr(i), n);
      i += n;
    } else if (f.wire_type == 2) {
      const std::uint64_t n = varint();
      if (i + n > s.size()) throw std::runtime_error("truncated bytes field");
      f.bytes = std::string(s.substr(i, n));
      i += n;
    } else {
      throw std::runtime_error("unexpected wire type");
    }
    fields.push_back(std::move(f));
  }
  return fields;
}

double as_double(std::uint64_t bits) {
  double d;
  std::memcpy(&d, &bits, 8);
  return d;
}
float as_float(std::uint64_t bits) {
  const auto b = static_cast<std::uint32_t>(bits);
  float f;
  std::memcpy(&f, &b, 4);
  return f;
}

struct Value {
  std::string tag;
  std::optional<float> simple_value;
  std::string plugin_name, plugin_content;
  std::string image, histo;  // Summary.Image / HistogramProto, serialized
};
struct Event {
  double wall_time = 0;
  std::int64_t step = 0;
  std::string file_version;
  std::vector<Value> values;
};

Event decode_event(std::string_view data) {
  Event e;
  for (const auto& f : parse_message(data)) {
    if (f.number == 1 && f.wire_type == 1) e.wall_time = as_double(f.scalar);
    else if (f.number == 2 && f.wire_type == 0) e.step = static_cast<std::int64_t>(f.scalar);
    else if (f.number == 3 && f.wire_type == 2) e.file_version = f.bytes;
    else if (f.number == 5 && f.wire_type == 2) {
      for (const auto& sv : parse_message(f.bytes)) {
        REQUIRE(sv.number == 1);
        Value v;
        for (const auto& vf : parse_message(sv.bytes)) {
          if (vf.number == 1) v.tag = vf.bytes;
          else if (vf.number == 2 && vf.wire_type == 5) v.simple_value = as_float(vf.scalar);
          else if (vf.number == 4 && vf.wire_type == 2) v.image = vf.bytes;
          else if (vf.number == 5 && vf.wire_type == 2) v.histo = vf.bytes;
          else if (vf.number == 9) {
            for (const auto& md : parse_message(vf.bytes))
              if (md.number == 1)
                for (const auto& pd : parse_message(md.bytes)) {
                  if (pd.number == 1) v.plugin_name = pd.bytes;
                  if (pd.number == 2) v.plugin_content = pd.bytes;
                }
          }
        }
        e.values.push_back(std::move(v));
      }
    } else {
      FAIL("unexpected Event field " << f.number);
    }
  }
  return e;
}

const Field* find_field(const std::vector<Field>& fs, std::uint32_t number) {
  for (const auto& f : fs)
    if (f.number == number) return &f;
  return nullptr;
}

std::string unhex(std::string_view hex) {
  std::string out;
  for (std::size_t i = 0; i + 1 < hex.size(); i += 2) out += static_cast<char>(std::stoi(std::string(hex.substr(i, 2)), nullptr, 16));
  return out;
}

struct NetHParams {
  BOOST_HANA_DEFINE_STRUCT(NetHParams, (std::int64_t, depth));
};
struct TBHParams {
  BOOST_HANA_DEFINE_STRUCT(TBHParams, (double, lr), (std::string, opt), (bool, flag), (NetHParams, net),
                           (std::optional<double>, dropout));
};

struct Scalar {
  std::string tag;
  std::int64_t step;
  float value;
  bool operator==(const Scalar&) const = default;
  // Catch prints vectors through glog's container operator<< (pulled in by torch), which needs this.
  friend std::ostream& operator<<(std::ostream& os, const Scalar& s) {
    return os << s.tag << "@" << s.step << "=" << s.value;
  }
};

double unix_now() {
  return std::chrono::duration<double>(std::chrono::system_clock::now().time_since_epoch()).count();
}

}  // namespace

TEST_CASE("masked CRC-32C known answers", "[loggers]") {
  CHECK(tfe::crc32c("123456789") == 0xE3069283u);
  CHECK(tfe::crc32c("") == 0u);
  CHECK(tfe::masked_crc32c("123456789") == 0xC78AB0E5u);
  CHECK(tfe::masked_crc32c("") == 0xA282EAD8u);
  for (std::uint32_t c : {0u, 1u, 0xE3069283u, 0xFFFFFFFFu, 0x8000'0000u}) CHECK(tfe::unmask_crc(tfe::mask_crc(c)) == c);
  const std::string some(1000, 'x');
  CHECK(tfe::crc32c(some) == bitwise_crc32c(some));
}

TEST_CASE("event encoding matches protobuf's bytes", "[loggers]") {
  // Golden strings: tensorboard's Event / Summary / HParams messages serialized by protobuf 3.21.
  CHECK(tfe::scalar_event(1.5, 3, "loss", 0.5f) == unhex("09000000000000f83f10032a0d0a0b0a046c6f7373150000003f"));
  CHECK(tfe::scalar_event(1.5, 0, "z", 0.0f) == unhex("09000000000000f83f2a0a0a080a017a1500000000"));
  CHECK(tfe::scalar_event(1.5, -2, "n", -1.0f) ==
        unhex("09000000000000f83f10feffffffffffffffff012a0a0a080a016e15000080bf"));
  CHECK(tfe::file_version_event(1700000000.25) == unhex("0900001040fc54d9411a0d627261696e2e4576656e743a32"));
  // A TFRecord framed by a reference writer (struct.pack + bitwise CRC-32C).
  CHECK(tfe::frame_record(tfe::scalar_event(1.5, 3, "loss", 0.5f)) ==
        unhex("1a00000000000000129bd82d09000000000000f83f10032a0d0a0b0a046c6f7373150000003f80655ee3"));

  // torch.utils.tensorboard.summary.hparams({"lr": 0.001, "opt": "Adam", "flag": True, "n": 3}, {"hp_metric": -1})
  volt::reflect::HParamDict hp;
  hp.set("lr", 0.001);
  hp.set("opt", std::string("Adam"));
  hp.set("flag", true);
  hp.set("n", std::int64_t{3});
  CHECK(tfe::hparams::experiment_summary(hp, {"hp_metric"}) ==
        unhex("0a580a145f68706172616d735f2f6578706572696d656e744a400a3e0a0768706172616d731233123122060a026c72200322070a036f"
              "7074200122080a04666c6167200322050a016e20032a0d0a0b120968705f6d6574726963"));
  CHECK(tfe::hparams::session_end_info_summary() ==
        unhex("0a2f0a1a5f68706172616d735f2f73657373696f6e5f656e645f696e666f4a110a0f0a0768706172616d73120422020801"));
  volt::reflect::HParamDict lr_only;
  lr_only.set("lr", 0.001);
  CHECK(tfe::hparams::session_start_info_summary(lr_only) ==
        unhex("0a400a1c5f68706172616d735f2f73657373696f6e5f73746172745f696e666f4a200a1e0a0768706172616d7312131a110a0f0a02"
              "6c72120911fca9f1d24d62503f"));
}

TEST_CASE("the reader rejects a corrupted record", "[loggers]") {
  std::string rec = tfe::frame_record(tfe::scalar_event(2.0, 7, "acc", 0.75f));
  CHECK(read_records(rec).size() == 1);
  std::string bad_data = rec;
  bad_data[14] ^= 0x01;
  CHECK_THROWS_WITH(read_records(bad_data), "data CRC mismatch");
  std::string bad_len = rec;
  bad_len[0] ^= 0x01;
  CHECK_THROWS_WITH(read_records(bad_len), "length CRC mismatch");
  CHECK_THROWS_WITH(read_records(rec.substr(0, rec.size() - 1)), "truncated record");
}

TEST_CASE("TensorBoardLogger writes scalars and the HParams plugin that TensorBoard reads", "[loggers]") {
  LogTempDir tmp;
  const double t0 = unix_now();
  fs::path event_file;
  {
    TensorBoardLogger logger{{.save_dir = tmp.path}};
    CHECK(logger.version() == 0);
    CHECK(logger.log_dir() == tmp.path / "lightning_logs" / "version_0");
    logger.log_hyperparams(TBHParams{.lr = 0.001, .opt = "Adam", .flag = true, .net = {.depth = 3}, .dropout = std::nullopt});
    logger.log_metrics({{"train_loss", 0.5}, {"lr", 0.001}}, 0);
    logger.log_metrics({{"train_loss", 0.25}}, 1);
    logger.log_metrics({{"val_acc", 0.3}, {"epoch", 0.0}}, 1);
    logger.save();
    event_file = logger.event_file_path();
    CHECK(fs::exists(logger.log_dir() / "hparams.yaml"));
    logger.finalize("success");
  }
  const double t1 = unix_now();

  REQUIRE(event_file.parent_path() == tmp.path / "lightning_logs" / "version_0");
  const std::string name = event_file.filename().string();
  CHECK(std::regex_match(name, std::regex(R"(events\.out\.tfevents\.\d{10}\..+\.\d+\.\d+)")));
  CHECK(volt_test::slurp(tmp.path / "lightning_logs" / "version_0" / "hparams.yaml") ==
        "dropout: null\nflag: true\nlr: 0.001\nnet/depth: 3\nopt: Adam\n");

  const auto records = read_records(volt_test::slurp(event_file));
  std::vector<Event> events;
  for (const auto& r : records) events.push_back(decode_event(r));
  REQUIRE(events.size() == 1 + 1 + 3 + 5);  // file_version, hp_metric, plugin x3, scalars

  CHECK(events[0].file_version == "brain.Event:2");
  for (const auto& e : events) {
    CHECK(e.wall_time >= t0 - 1);
    CHECK(e.wall_time <= t1 + 1);
  }

  // hp_metric = -1 at step 0, then the experiment, session start and session end summaries.
  REQUIRE(events[1].values.size() == 1);
  CHECK(events[1].values[0].tag == "hp_metric");
  CHECK(events[1].values[0].simple_value == -1.0f);
  CHECK(events[1].step == 0);
  const char* plugin_tags[] = {"_hparams_/experiment", "_hparams_/session_start_info", "_hparams_/session_end_info"};
  for (int k = 0; k < 3; ++k) {
    const auto& e = events[2 + k];
    REQUIRE(e.values.size() == 1);
    CHECK(e.values[0].tag == plugin_tags[k]);
    CHECK(e.values[0].plugin_name == "hparams");
    CHECK_FALSE(e.values[0].simple_value);
  }

  // Experiment: hparam_infos (name, type) in order, None shown as the string "None"; metric hp_metric.
  const auto experiment_data = parse_message(events[2].values[0].plugin_content);
  CHECK(find_field(experiment_data, 1) == nullptr);  // version 0 is the default
  const auto experiment = parse_message(find_field(experiment_data, 2)->bytes);
  std::vector<std::pair<std::string, std::uint64_t>> infos;
  std::vector<std::string> metrics;
  for (const auto& f : experiment) {
    const auto fields = parse_message(f.bytes);
    if (f.number == 4) infos.emplace_back(find_field(fields, 1)->bytes, find_field(fields, 4)->scalar);
    if (f.number == 5) metrics.push_back(find_field(parse_message(find_field(fields, 1)->bytes), 2)->bytes);
  }
  CHECK(infos == std::vector<std::pair<std::string, std::uint64_t>>{
                     {"lr", 3}, {"opt", 1}, {"flag", 3}, {"net/depth", 3}, {"dropout", 1}});
  CHECK(metrics == std::vector<std::string>{"hp_metric"});

  // SessionStartInfo: the values (google.protobuf.Value: number_value = 2, string_value = 3).
  const auto ssi = parse_message(find_field(parse_message(events[3].values[0].plugin_content), 3)->bytes);
  std::map<std::string, std::string> shown;
  for (const auto& entry : ssi) {
    const auto kv = parse_message(entry.bytes);
    const auto value = parse_message(find_field(kv, 2)->bytes);
    REQUIRE(value.size() == 1);
    shown[find_field(kv, 1)->bytes] =
        value[0].number == 2 ? std::to_string(as_double(value[0].scalar)) : "str:" + value[0].bytes;
  }
  CHECK(shown == std::map<std::string, std::string>{{"lr", std::to_string(0.001)},
                                                    {"opt", "str:Adam"},
                                                    {"flag", std::to_string(1.0)},
                                                    {"net/depth", std::to_string(3.0)},
                                                    {"dropout", "str:None"}});
  const auto sei = parse_message(find_field(parse_message(events[4].values[0].plugin_content), 4)->bytes);
  CHECK(find_field(sei, 1)->scalar == 1);  // STATUS_SUCCESS

  // The scalars, one event per metric, in map order within a call.
  std::vector<Scalar> scalars;
  for (std::size_t i = 5; i < events.size(); ++i) {
    REQUIRE(events[i].values.size() == 1);
    REQUIRE(events[i].values[0].simple_value);
    scalars.push_back({events[i].values[0].tag, events[i].step, *events[i].values[0].simple_value});
  }
  CHECK(scalars == std::vector<Scalar>{{"lr", 0, 0.001f},
                                       {"train_loss", 0, 0.5f},
                                       {"train_loss", 1, 0.25f},
                                       {"epoch", 1, 0.0f},
                                       {"val_acc", 1, 0.3f}});
}

TEST_CASE("TensorBoardLogger without default_hp_metric, and a failed run", "[loggers]") {
  LogTempDir tmp;
  volt_test::touch_dir(tmp.path / "tb" / "version_4");
  fs::path event_file;
  {
    TensorBoardLogger logger{{.save_dir = tmp.path, .name = "tb", .default_hp_metric = false}};
    CHECK(logger.version() == 5);
    logger.log_hyperparams(std::map<std::string, double>{{"lr", 0.01}});
    logger.log_metrics({{"loss", 2.0}}, 10);
    event_file = logger.event_file_path();
    logger.finalize("failed");
    // Lightning writes hparams.yaml from save(), which finalize calls only on success.
    CHECK_FALSE(fs::exists(logger.log_dir() / "hparams.yaml"));
    CHECK(logger.hparams().size() == 1);
  }
  const auto records = read_records(volt_test::slurp(event_file));
  REQUIRE(records.size() == 2);  // file_version, loss: no hp_metric, no plugin summaries
  const auto e = decode_event(records[1]);
  CHECK(e.step == 10);
  REQUIRE(e.values.size() == 1);
  CHECK(e.values[0].tag == "loss");
  CHECK(e.values[0].simple_value == 2.0f);
}

namespace {
std::vector<double> packed_doubles(const std::string& bytes) {
  REQUIRE(bytes.size() % 8 == 0);
  std::vector<double> out;
  for (std::size_t i = 0; i < bytes.size(); i += 8) out.push_back(as_double(read_le(std::string_view(bytes).substr(i), 8)));
  return out;
}
}  // namespace

TEST_CASE("TensorBoardLogger writes images and histograms as SummaryWriter does", "[loggers][image]") {
  LogTempDir tmp;
  fs::path event_file;
  {
    TensorBoardLogger logger{{.save_dir = tmp.path}};
    // A one-channel 2x3 image: shown as grey RGB, float scaled by 255 and truncated, as torch's add_image.
    logger.add_image("samples", torch::tensor({0.0f, 0.5f, 1.0f, 0.25f, 0.75f, 0.999f}).reshape({1, 2, 3}), 7);
    logger.add_histogram("weights", torch::tensor({-1.0, 0.0, 0.5, 0.5, 2.0, 3.0}).reshape({2, 3}), 8);
    CHECK_THROWS_WITH(logger.add_histogram("bad", torch::tensor({1.0, std::nan("")}), 9), Catch::Contains("NaN"));
    CHECK_THROWS_WITH(logger.add_image("bad", torch::zeros({5, 2, 2}), 9), Catch::Contains("C = 1, 3 or 4"));
    event_file = logger.event_file_path();
    logger.finalize("success");
  }
  const auto records = read_records(volt_test::slurp(event_file));
  REQUIRE(records.size() == 3);  // file_version, image, histogram: the refused calls wrote nothing
  const Event image_event = decode_event(records[1]);
  CHECK(image_event.step == 7);
  REQUIRE(image_event.values.size() == 1);
  CHECK(image_event.values[0].tag == "samples");
  const auto image = parse_message(image_event.values[0].image);
  REQUIRE(image.size() == 4);
  CHECK(find_field(image, 1)->scalar == 2);  // height
  CHECK(find_field(image, 2)->scalar == 3);  // width
  CHECK(find_field(image, 3)->scalar == 3);  // colorspace: RGB
  const std::string& png = find_field(image, 4)->bytes;
  CHECK(png.substr(0, 8) == std::string("\x89PNG\r\n\x1a\n", 8));
  // The same bytes as volt's encoder gives for the HWC image SummaryWriter would build.
  const auto hwc = torch::tensor({0, 127, 255, 63, 191, 254}, torch::kByte).reshape({2, 3, 1}).expand({2, 3, 3}).contiguous();
  CHECK(png == volt::loggers::png::encode_hwc(hwc));

  const Event histo_event = decode_event(records[2]);
  CHECK(histo_event.step == 8);
  REQUIRE(histo_event.values.size() == 1);
  CHECK(histo_event.values[0].tag == "weights");
  const auto histo = parse_message(histo_event.values[0].histo);
  CHECK(as_double(find_field(histo, 1)->scalar) == -1.0);  // min
  CHECK(as_double(find_field(histo, 2)->scalar) == 3.0);   // max
  CHECK(as_double(find_field(histo, 3)->scalar) == 6.0);   // num
  CHECK(as_double(find_field(histo, 4)->scalar) == 5.0);   // sum
  CHECK(as_double(find_field(histo, 5)->scalar) == 14.5);  // sum_squares
  // Expected from torch 1.13's make_histogram with SummaryWriter's default bins, run with
  // Debian's numpy (/usr/bin/python3): 595 edges from -1.0089710279437536 to 3.1665833053880363.
  const auto limits = packed_doubles(find_field(histo, 6)->bytes);
  const auto counts = packed_doubles(find_field(histo, 7)->bytes);
  REQUIRE(limits.size() == 595);
  REQUIRE(counts.size() == 595);
  CHECK(limits.front() == -1.0089710279437536);
  CHECK(limits[1] == -0.917246389039776);
  CHECK(limits[292] == 1e-12);
  CHECK(limits[575] == 0.5177616740489182);
  CHECK(limits[590] == 2.1628190051144287);
  CHECK(limits.back() == 3.1665833053880363);
  std::map<std::size_t, double> nonzero;
  for (std::size_t i = 0; i < counts.size(); ++i)
    if (counts[i] != 0) nonzero[i] = counts[i];
  CHECK(nonzero == std::map<std::size_t, double>{{1, 1}, {292, 1}, {575, 2}, {590, 1}, {594, 1}});
}
