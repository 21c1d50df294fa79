#pragma once
// JSON through templates by reference only. In the separately compiled mode volt's headers see
// nlohmann::json as declared, not defined (<nlohmann/json_fwd.hpp>): parsing <nlohmann/json.hpp>
// costs a user TU about 1.8 s and 90 MB. So no template or inline body in volt's headers makes a
// json value or calls its members; volt's own stateful types write their state through a
// compiled `void state_dict_into(nlohmann::json& out) const`, and only a user's type whose
// state_dict() returns json by value (whose TU then has <nlohmann/json.hpp>) is called by value.
#include <type_traits>
#include <utility>

#include <nlohmann/json_fwd.hpp>

namespace volt::detail {

// True where T is a complete type at this point of the TU.
template <class T>
concept complete_type = requires { sizeof(T); };

// `T`, spelled so that it depends on `Context`: a body that names it is checked only when it is
// instantiated, never where the template is defined.
template <class T, class Context>
struct dependent_type {
  using type = T;
};
template <class T, class Context>
using dependent_t = typename dependent_type<T, Context>::type;

// Whether `source` has a state volt saves: volt's state_dict_into, or a state_dict() (any
// return type: detected through decltype, which needs no complete type).
template <class Source>
concept has_json_state = requires(const Source& source, nlohmann::json& out) { source.state_dict_into(out); } ||
                         requires(const Source& source) { typename std::type_identity<decltype(source.state_dict())>; };

// Writes the state of `source` into `out`: through volt's compiled state_dict_into when it has
// one, else through its state_dict(), whose JSON the source's own TU has defined.
template <class Source>
void state_dict_into(const Source& source, nlohmann::json& out) {
  if constexpr (requires { source.state_dict_into(out); }) {
    source.state_dict_into(out);
  } else if constexpr (!complete_type<dependent_t<nlohmann::json, Source>>) {
    static_assert(complete_type<dependent_t<nlohmann::json, Source>>,
                  "volt: state_dict() returns nlohmann::json by value, but nlohmann::json is only declared here: "
                  "#include <nlohmann/json.hpp> in the file that defines the type with state_dict() (volt's "
                  "headers include only <nlohmann/json_fwd.hpp> in the separately compiled mode).");
  } else {
    out = source.state_dict();
  }
}

}  // namespace volt::detail
