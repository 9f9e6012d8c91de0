# Helper for bin/compile, run by the app's chosen interpreter (Python 3.6 and newer).
#
#   helper.py prepare KIND BUILD_DIR OUT_DIR [KEY_PART...]
#
# KIND is requirements.txt, Pipfile or Pipfile.lock. Writes the requirement files pip is to
# install (for Pipfile and Pipfile.lock) into OUT_DIR and prints, one per line:
#   key=<hex>       cache key: the dependency files' contents plus KEY_PART arguments
#   local=0|1       1 when a requirement points at a local path (the environment must then be
#                   refreshed with pip even when the key is unchanged)
#   hashed=<path>   Pipfile.lock: pinned requirements with --hash (install with --require-hashes)
#   plain=<path>    requirements without hashes (Pipfile; VCS/path entries of Pipfile.lock)
# Errors: a message on stderr and exit status 2.
import hashlib
import json
import os
import re
import sys

PYPI_HOSTS = ("pypi.org", "pypi.python.org", "files.pythonhosted.org")
MARKER_KEYS = ("os_name", "sys_platform", "platform_machine", "platform_python_implementation",
               "platform_release", "platform_system", "platform_version", "python_version",
               "python_full_version", "implementation_name", "implementation_version")
VCS = ("git", "hg", "svn", "bzr")


class Failure(Exception):
    pass


# ---- a small TOML reader, used only when neither tomllib nor pip's vendored tomli exists ----

def _toml_value(s, i):
    """Parses one TOML value of s starting at i; returns (value, next index)."""
    while i < len(s) and s[i] in " \t":
        i += 1
    if i >= len(s):
        raise ValueError("missing value")
    c = s[i]
    if s.startswith('"""', i) or s.startswith("'''", i):
        q = s[i:i + 3]
        j = s.index(q, i + 3)
        return s[i + 3:j].lstrip("\n"), j + 3
    if c == '"':
        out, j = [], i + 1
        while s[j] != '"':
            if s[j] == "\\":
                nxt = s[j + 1]
                out.append({"n": "\n", "t": "\t", '"': '"', "\\": "\\"}.get(nxt, nxt))
                j += 2
            else:
                out.append(s[j])
                j += 1
        return "".join(out), j + 1
    if c == "'":
        j = s.index("'", i + 1)
        return s[i + 1:j], j + 1
    if c == "[":
        items, j = [], i + 1
        while True:
            j = _skip_ws(s, j)
            if s[j] == "]":
                return items, j + 1
            v, j = _toml_value(s, j)
            items.append(v)
            j = _skip_ws(s, j)
            if s[j] == ",":
                j += 1
    if c == "{":
        table, j = {}, i + 1
        while True:
            j = _skip_ws(s, j)
            if s[j] == "}":
                return table, j + 1
            k, j = _toml_key(s, j)
            j = _skip_ws(s, j)
            if s[j] != "=":
                raise ValueError("expected = in inline table")
            v, j = _toml_value(s, j + 1)
            table[k] = v
            j = _skip_ws(s, j)
            if s[j] == ",":
                j += 1
    m = re.compile(r"true|false|[-+]?[0-9][0-9_.eE+-]*").match(s, i)
    if not m:
        raise ValueError("unsupported value %r" % s[i:i + 20])
    t = m.group(0)
    if t in ("true", "false"):
        return t == "true", m.end()
    try:
        return int(t.replace("_", "")), m.end()
    except ValueError:
        return float(t.replace("_", "")), m.end()


def _skip_ws(s, j):
    while j < len(s) and (s[j] in " \t\r\n" or s[j] == "#"):
        if s[j] == "#":
            while j < len(s) and s[j] != "\n":
                j += 1
        else:
            j += 1
    return j


def _toml_key(s, j):
    if s[j] in "\"'":
        return _toml_value(s, j)
    m = re.compile(r"[A-Za-z0-9_.-]+").match(s, j)
    if not m:
        raise ValueError("bad key at %r" % s[j:j + 20])
    return m.group(0), m.end()


def mini_toml(text):
    doc, cur, i = {}, None, 0
    cur = doc
    while True:
        i = _skip_ws(text, i)
        if i >= len(text):
            return doc
        if text.startswith("[[", i):
            j = text.index("]]", i)
            name = text[i + 2:j].strip().strip("\"'")
            cur = {}
            doc.setdefault(name, []).append(cur)
            i = j + 2
        elif text[i] == "[":
            j = text.index("]", i)
            cur = doc
            for part in text[i + 1:j].strip().split("."):
                cur = cur.setdefault(part.strip().strip("\"'"), {})
            i = j + 1
        else:
            k, i = _toml_key(text, i)
            i = _skip_ws(text, i)
            if text[i] != "=":
                raise ValueError("expected = after %r" % k)
            v, i = _toml_value(text, i + 1)
            cur[k] = v


def load_toml(path):
    text = open(path, "rb").read().decode("utf-8")
    try:
        import tomllib
        return tomllib.loads(text)
    except ImportError:
        pass
    try:
        from pip._vendor import tomli
        return tomli.loads(text)
    except ImportError:
        pass
    return mini_toml(text)


# ---- requirement lines ----

def version_spec(v):
    v = str(v).strip()
    if v in ("", "*"):
        return ""
    if re.match(r"^(===|==|!=|~=|>=|<=|>|<)", v):
        return v
    return "==" + v


def markers_of(spec):
    markers = []
    if spec.get("markers"):
        markers.append(str(spec["markers"]))
    for k in MARKER_KEYS:
        if k in spec and k != "version":
            v = str(spec[k]).strip()
            m = re.match(r"^(===|==|!=|~=|>=|<=|>|<|in |not in )\s*(.*)$", v)
            op, val = (m.group(1).strip(), m.group(2)) if m else ("==", v)
            val = val.strip()
            if not (val[:1] in "'\"" and val[-1:] == val[:1]):
                val = "'%s'" % val
            markers.append("%s %s %s" % (k, op, val))
    return " and ".join("(%s)" % m if " or " in m else m for m in markers)


def requirement_line(name, spec, build_dir):
    """One requirements.txt line for a Pipfile [packages] entry or a Pipfile.lock entry (local
    paths made absolute: pip runs elsewhere)."""
    if not isinstance(spec, dict):
        return name + version_spec(spec)
    extras = spec.get("extras") or []
    ex = "[%s]" % ",".join(extras) if extras else ""
    marker = markers_of(spec)
    editable = bool(spec.get("editable"))
    for vcs in VCS:
        if vcs in spec:
            url = str(spec[vcs])
            if not url.startswith(vcs + "+"):
                url = vcs + "+" + url
            if spec.get("ref"):
                url += "@" + str(spec["ref"])
            if spec.get("subdirectory"):
                url += "#subdirectory=" + str(spec["subdirectory"])
            if editable:
                sep = "&" if "#" in url else "#"
                return "-e %s%segg=%s%s" % (url, sep, name, ex)
            return "%s%s @ %s%s" % (name, ex, url, " ; " + marker if marker else "")
    if "path" in spec:
        path = os.path.normpath(os.path.join(build_dir, str(spec["path"])))
        if editable:
            return "-e %s%s" % (path, ex)
        return "%s%s%s" % (path, ex, " ; " + marker if marker else "")
    if "file" in spec:
        return "%s%s @ %s%s" % (name, ex, spec["file"], " ; " + marker if marker else "")
    return "%s%s%s%s" % (name, ex, version_spec(spec.get("version", "*")), " ; " + marker if marker else "")


def is_local(line):
    s = line.strip()
    s = re.sub(r"^(-e|--editable)(\s+|=)", "", s)
    return s.startswith((".", "/", "file:", "~")) or " @ file:" in s


def source_options(sources):
    """--extra-index-url lines for a Pipfile's or Pipfile.lock's non-PyPI sources."""
    out = []
    for src in sources or []:
        url = str(src.get("url") or "")
        if not url:
            continue
        host = re.sub(r"^[a-z]+://([^/@]*@)?", "", url).split("/")[0].split(":")[0]
        if host in PYPI_HOSTS:
            continue
        out.append("--extra-index-url " + url)
        if src.get("verify_ssl") is False:
            out.append("--trusted-host " + host)
    return out


def read_requirements(path, seen, parts):
    """Adds the text of path and of the files it includes (-r, -c) to parts; returns True
    when one of them points at a local path."""
    path = os.path.normpath(path)
    if path in seen or not os.path.isfile(path):
        return False
    seen.add(path)
    text = open(path, "rb").read()
    parts.append(path.encode() + b"\0" + text)
    local = False
    for raw in text.decode("utf-8", "replace").splitlines():
        line = re.sub(r"(^|\s)#.*$", "", raw).strip()
        if not line:
            continue
        m = re.match(r"^(-r|--requirement|-c|--constraint)(\s+|=)(.+)$", line)
        if m:
            inc = os.path.join(os.path.dirname(path), m.group(3).strip())
            local = read_requirements(inc, seen, parts) or local
        elif is_local(line):
            local = True
    return local


def write(path, lines):
    with open(path, "w") as f:
        f.write("\n".join(lines) + "\n")


def prepare(kind, build_dir, out_dir, key_parts):
    parts = [p.encode() for p in ["bulut-python-1", kind] + key_parts]
    result = {"local": "0", "hashed": "", "plain": ""}
    if kind == "requirements.txt":
        local = read_requirements(os.path.join(build_dir, "requirements.txt"), set(), parts)
        result["local"] = "1" if local else "0"
    elif kind == "Pipfile":
        path = os.path.join(build_dir, "Pipfile")
        try:
            doc = load_toml(path)
        except Exception as e:
            raise Failure("Pipfile is not valid TOML: %s" % e)
        packages = doc.get("packages") or {}
        if not isinstance(packages, dict):
            raise Failure("Pipfile: [packages] must be a table")
        lines = source_options(doc.get("source"))
        for name in sorted(packages, key=str.lower):
            lines.append(requirement_line(name, packages[name], build_dir))
        if any(is_local(l) for l in lines):
            result["local"] = "1"
        out = os.path.join(out_dir, "Pipfile-packages.txt")
        write(out, lines)
        result["plain"] = out
        parts.append("\n".join(lines).encode())
    elif kind == "Pipfile.lock":
        path = os.path.join(build_dir, "Pipfile.lock")
        try:
            lock = json.loads(open(path, "rb").read().decode("utf-8"))
        except ValueError as e:
            raise Failure("Pipfile.lock is not valid JSON: %s" % e)
        default = lock.get("default") or {}
        if not isinstance(default, dict):
            raise Failure("Pipfile.lock: \"default\" must be an object")
        opts = source_options((lock.get("_meta") or {}).get("sources"))
        hashed, plain = [], []
        for name in sorted(default, key=str.lower):
            e = default[name]
            if not isinstance(e, dict):
                raise Failure("Pipfile.lock: the entry for %s is not an object" % name)
            pinned = str(e.get("version") or "").startswith("==")
            if pinned and e.get("hashes") and not any(k in e for k in VCS + ("path", "file")):
                line = requirement_line(name, dict((k, v) for k, v in e.items() if k != "hashes"), build_dir)
                hashed.append(line + " " + " ".join("--hash=" + h for h in e["hashes"]))
            else:
                plain.append(requirement_line(name, e, build_dir))
        if any(is_local(l) for l in plain):
            result["local"] = "1"
        if hashed:
            result["hashed"] = os.path.join(out_dir, "Pipfile.lock-hashed.txt")
            write(result["hashed"], opts + hashed)
        if plain:
            result["plain"] = os.path.join(out_dir, "Pipfile.lock-other.txt")
            write(result["plain"], opts + plain)
        parts.append("\n".join(opts + hashed + ["--"] + plain).encode())
    else:
        raise Failure("unknown kind %s" % kind)
    h = hashlib.sha256()
    for p in parts:
        h.update(hashlib.sha256(p).digest())
    print("key=" + h.hexdigest())
    for k in ("local", "hashed", "plain"):
        print("%s=%s" % (k, result[k]))


def main(argv):
    if len(argv) < 4 or argv[0] != "prepare":
        sys.stderr.write("usage: helper.py prepare KIND BUILD_DIR OUT_DIR [KEY_PART...]\n")
        return 2
    try:
        prepare(argv[1], argv[2], argv[3], argv[4:])
    except Failure as e:
        sys.stderr.write("%s\n" % e)
        return 2
    return 0


if __name__ == "__main__":
    sys.exit(main(sys.argv[1:]))
