#!/usr/bin/env python3
"""Moves the type-independent (non-template, non-constexpr) function definitions of a volt header
into its implementation file, verbatim, for the separately compiled mode (docs/performance.md).

  tools/split_impl.py include/volt/<folder>/<header>.hpp [--skip name,name] [--keep-one-liners]

The header keeps each function's declaration (with VOLT_INLINE), the comments and everything else;
include/volt/<folder>/impl/<header>.ipp gets the definitions (VOLT_INLINE, qualified with their
class where they are members, default arguments dropped), inside the same namespaces. The bodies
are copied unchanged. Review the result: a return type that names a nested type needs its class
qualification by hand.
"""
import argparse
import pathlib
import re
import sys


def scan_to_body(text, start):
    """From `start`, returns (index of the body's '{', index after its matching '}') or None when
    the declaration at `start` is not a function definition."""
    depth = 0
    i = start
    seen_params = False
    n = len(text)
    while i < n:
        c = text[i]
        if text.startswith("//", i):
            i = text.index("\n", i)
            continue
        if c == '"' or c == "'":
            i = skip_literal(text, i)
            continue
        if c in "([":
            depth += 1
            if c == "(" and depth == 1:
                seen_params = True
        elif c in ")]":
            depth -= 1
        elif c == "{" and depth == 0:
            if not seen_params:
                return None
            end = match_brace(text, i)
            return i, end
        elif c == ";" and depth == 0:
            return None
        elif c == "=" and depth == 0 and not seen_params:
            return None
        i += 1
    return None


def skip_literal(text, i):
    q = text[i]
    if q == '"' and i > 0 and text[i - 1] == "R":
        m = re.match(r'R"([^(]*)\(', text[i - 1:])
        close = ")" + m.group(1) + '"'
        return text.index(close, i) + len(close)
    if q == "'" and i > 0 and text[i - 1].isdigit() and text[i + 1:i + 2].isdigit():
        return i + 1  # digit separator 100'000
    i += 1
    while text[i] != q:
        if text[i] == "\\":
            i += 1
        i += 1
    return i + 1


def match_brace(text, i):
    depth = 0
    n = len(text)
    while i < n:
        c = text[i]
        if text.startswith("//", i):
            i = text.index("\n", i)
            continue
        if text.startswith("/*", i):
            i = text.index("*/", i) + 2
            continue
        if c == '"' or c == "'":
            i = skip_literal(text, i)
            continue
        if c == "{":
            depth += 1
        elif c == "}":
            depth -= 1
            if depth == 0:
                return i + 1
        i += 1
    raise ValueError("unbalanced braces")


def strip_defaults(sig):
    """Removes `= default-argument` from the parameter list of a signature."""
    out = []
    depth = 0
    i = 0
    params_done = False
    while i < len(sig):
        c = sig[i]
        if c == '"' or c == "'":
            j = skip_literal(sig, i)
            out.append(sig[i:j])
            i = j
            continue
        if c in "([{":
            depth += 1
        elif c in ")]}":
            depth -= 1
            if depth == 0 and c == ")":
                params_done = True
        if not params_done and depth == 1 and c == "=" and sig[i + 1] != "=" and sig[i - 1] not in "=!<>":
            # drop up to the next ',' or ')' at depth 1
            while out and out[-1] == " ":
                out.pop()
            d = 1
            i += 1
            while i < len(sig):
                c2 = sig[i]
                if c2 == '"' or c2 == "'":
                    i = skip_literal(sig, i)
                    continue
                if c2 in "([{":
                    d += 1
                elif c2 in ")]}":
                    d -= 1
                    if d == 0:
                        break
                elif c2 == "," and d == 1:
                    break
                i += 1
            continue
        out.append(c)
        i += 1
    return "".join(out)


def qualify(sig, cls):
    """Inserts `cls::` before the function name (the identifier before the first '(')."""
    m = re.search(r"(~?\w+)\s*\(", sig)
    return sig[: m.start(1)] + cls + "::" + sig[m.start(1):]


def main():
    ap = argparse.ArgumentParser()
    ap.add_argument("header")
    ap.add_argument("--skip", default="")
    ap.add_argument("--keep-one-liners", action="store_true")
    args = ap.parse_args()
    skip = set(filter(None, args.skip.split(",")))
    path = pathlib.Path(args.header)
    text = path.read_text()
    lines = text.splitlines(keepends=True)
    offsets = [0]
    for l in lines:
        offsets.append(offsets[-1] + len(l))

    header_out = []
    impl = []  # (kind, text): 'ns' lines and 'def' blocks
    cls = None  # name of the enclosing non-template class at column 0
    cls_template = False
    prev_template = False
    li = 0
    while li < len(lines):
        line = lines[li]
        stripped = line.strip()
        if re.match(r"^namespace [\w:]+ \{", line) or re.match(r"^\}  // namespace", line):
            impl.append(("ns", line))
            header_out.append(line)
            li += 1
            continue
        m = re.match(r"^(class|struct) (\w+)\b[^;]*\{\s*$", line)
        if m:
            cls = m.group(2)
            cls_template = prev_template
            header_out.append(line)
            prev_template = False
            li += 1
            continue
        if line.startswith("};") and cls:
            cls = None
        candidate = None
        if cls is None and line.startswith("inline ") and not line.startswith("inline constexpr") and not prev_template:
            candidate = ("free", "")
        elif (cls and not cls_template and re.match(r"^  [A-Za-z~]", line) and not re.match(
                r"^  (template|friend|constexpr|static constexpr|using|enum|struct|class|public|private|protected|explicit|operator|\w+::\w+\()",
                line) and not prev_template):
            candidate = ("member", "  ")
        prev_template = stripped.startswith("template")
        if candidate:
            start = offsets[li]
            found = scan_to_body(text, start)
            if found:
                brace, end = found
                sig = text[start:brace].rstrip()
                name_m = re.search(r"(~?\w+)\s*\(", sig)
                name = name_m.group(1) if name_m else ""
                end_line = next(k for k in range(li, len(lines)) if offsets[k + 1] >= end)
                one_liner = end_line == li
                bad = (name in skip or name == cls or "auto " in sig or re.search(r"\bauto\b", sig)
                       or "operator" in sig or (one_liner and not args.keep_one_liners))
                if not bad:
                    indent = candidate[1]
                    decl_sig = sig
                    if decl_sig.lstrip().startswith("inline "):
                        decl_sig = decl_sig.replace("inline ", "VOLT_INLINE ", 1)
                    else:
                        decl_sig = indent + "VOLT_INLINE " + decl_sig[len(indent):]
                    header_out.append(decl_sig + ";\n")
                    dsig = strip_defaults(sig)
                    dsig = dsig[len(indent):] if dsig.startswith(indent) else dsig
                    dsig = re.sub(r"^inline ", "", dsig)
                    dsig = re.sub(r"^(static|explicit) ", "", dsig)
                    dsig = dsig.replace("\n" + indent, "\n")
                    if cls:
                        dsig = qualify(dsig, cls)
                    body = text[brace:end]
                    if indent:
                        body = body.replace("\n" + indent, "\n")
                    impl.append(("def", "VOLT_INLINE " + dsig + " " + body + "\n"))
                    li = end_line + 1
                    continue
        header_out.append(line)
        li += 1

    # The implementation file: the namespaces that hold definitions, and those definitions.
    blocks = []
    stack = []
    for kind, t in impl:
        if kind == "ns" and t.startswith("namespace"):
            stack.append([t, []])
        elif kind == "ns":
            ns, content = stack.pop()
            if content:
                block = ns + "\n" + "\n".join(content) + "\n" + t
                (stack[-1][1] if stack else blocks).append(block)
        else:
            (stack[-1][1] if stack else blocks).append(t)
    return header_out, blocks


if __name__ == "__main__":
    ap_header = sys.argv[1]
    header_out, blocks = main()
    path = pathlib.Path(ap_header)
    parts = path.parts
    at = parts.index("volt")
    rel_hpp = "/".join(parts[at:])
    impl_path = path.parent / "impl" / (path.stem + ".ipp")
    rel_ipp = "/".join(impl_path.parts[at:])
    hdr = "".join(header_out).rstrip("\n") + "\n"
    hdr += f"\n#if !defined(VOLT_SEPARATE_COMPILATION)\n#include <{rel_ipp}>\n#endif\n"
    # VOLT_INLINE comes from the config header, included after the last #include of the header.
    hl = hdr.splitlines(keepends=True)
    # (Not inside an #if block, such as a platform's headers: the macro is needed everywhere.)
    depth, at_top = 0, []
    for l in hl:
        if l.startswith("#if"):
            depth += 1
        elif l.startswith("#endif"):
            depth -= 1
        at_top.append(depth == 0)
    last_inc = max(i for i, l in enumerate(hl)
                   if at_top[i] and l.startswith("#include") and "VOLT_SEPARATE" not in l and "/impl/" not in l)
    hl.insert(last_inc + 1, "#include <volt/detail/config.hpp>\n")
    path.write_text("".join(hl))
    impl_path.parent.mkdir(exist_ok=True)
    impl_path.write_text(
        "#pragma once\n"
        f"// Definitions of <{rel_hpp}>: included by the header in header-only mode, compiled once\n"
        "// into volt::compiled under VOLT_SEPARATE_COMPILATION (include/volt/impl/src.hpp).\n"
        f"#include <{rel_hpp}>\n\n" + "\n".join(blocks))
    print(f"wrote {path} and {impl_path}")
