// OnExceptionCheckpoint: <dirpath>/<filename>.ckpt written on an exception, removed at teardown,
// and never hiding the original error.
#include <catch2/catch.hpp>
#include <torch/torch.h>

#include <filesystem>
#include <fstream>
#include <stdexcept>

#include <volt/callbacks/on_exception_checkpoint.hpp>

#include "callback_test_support.hpp"
#include "trainer_test_support.hpp"

using volt::OnExceptionCheckpoint;
using volt_test::Harness;
using volt_test::TempDir;

TEST_CASE("OnExceptionCheckpoint saves <dirpath>/<filename>.ckpt on an exception", "[callbacks][on_exception_checkpoint]") {
  TempDir tmp;
  Harness h;
  h.state.global_step = 42;
  SECTION("default filename") {
    OnExceptionCheckpoint cb{{.dirpath = tmp.path() / "crash"}};
    CHECK(cb.ckpt_path() == tmp.path() / "crash" / "on_exception.ckpt");
    h.emit(volt::hooks::on_exception, cb, std::runtime_error("boom"));
    REQUIRE(h.saved.size() == 1);
    CHECK(h.saved[0].path == tmp.path() / "crash" / "on_exception.ckpt");
    CHECK_FALSE(h.saved[0].weights_only);
    CHECK(h.saved[0].global_step == 42);
    CHECK(std::filesystem::exists(cb.ckpt_path()));
  }
  SECTION("custom filename, overwriting") {
    OnExceptionCheckpoint cb{{.dirpath = tmp.path(), .filename = "crash-{epoch}"}};
    h.emit(volt::hooks::on_exception, cb, std::runtime_error("one"));
    h.emit(volt::hooks::on_exception, cb, std::runtime_error("two"));
    CHECK(h.saved.size() == 2);
    CHECK(volt_test::files_in(tmp.path()) == std::set<std::string>{"crash-{epoch}.ckpt"});  // no templating, as in Lightning
  }
}

TEST_CASE("OnExceptionCheckpoint removes its file at teardown", "[callbacks][on_exception_checkpoint]") {
  TempDir tmp;
  Harness h;
  OnExceptionCheckpoint cb{{.dirpath = tmp.path()}};
  std::ofstream(cb.ckpt_path()) << "stale";
  h.emit(volt::hooks::teardown, cb, volt::Stage::fit);
  CHECK_FALSE(std::filesystem::exists(cb.ckpt_path()));
  CHECK_NOTHROW(h.emit(volt::hooks::teardown, cb, volt::Stage::fit));  // nothing to remove
}

TEST_CASE("OnExceptionCheckpoint never replaces the original exception", "[callbacks][on_exception_checkpoint]") {
  TempDir tmp;
  Harness h;
  OnExceptionCheckpoint cb{{.dirpath = tmp.path()}};
  SECTION("before fit installed save_checkpoint") {
    h.state.facade = {};
    CHECK_NOTHROW(h.emit(volt::hooks::on_exception, cb, std::runtime_error("early")));
  }
  SECTION("when the save itself fails") {
    h.state.facade.save_checkpoint = [](const std::filesystem::path&, bool) {
      throw std::runtime_error("disk full");
    };
    CHECK_NOTHROW(h.emit(volt::hooks::on_exception, cb, std::runtime_error("nan loss")));
  }
}

TEST_CASE("OnExceptionCheckpoint needs a dirpath and a filename", "[callbacks][on_exception_checkpoint]") {
  CHECK_THROWS_WITH(OnExceptionCheckpoint({}), Catch::Contains("dirpath"));
  CHECK_THROWS_WITH((OnExceptionCheckpoint{{.dirpath = "x", .filename = ""}}), Catch::Contains("filename"));
  STATIC_REQUIRE(volt::hooks::has<volt::hooks::on_exception_t, OnExceptionCheckpoint, const std::exception&>);
  STATIC_REQUIRE(volt::hooks::has<volt::hooks::teardown_t, OnExceptionCheckpoint, volt::Stage>);
}


TEST_CASE("OnExceptionCheckpoint in a failing real fit: the original error reaches the caller",
          "[callbacks][on_exception_checkpoint][trainer]") {
  TempDir tmp;
  volt_test::ScriptedRegressor model;
  model.throw_at_step = 2;
  volt_test::SmallData data;
  volt_test::TrainerWith<OnExceptionCheckpoint> trainer({.max_epochs = 2},
                                                        OnExceptionCheckpoint{{.dirpath = tmp.path()}});
  CHECK_THROWS_WITH(trainer.fit(model, data), Catch::Contains("training_step failed on purpose"));
}
