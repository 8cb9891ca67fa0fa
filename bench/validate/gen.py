#!/usr/bin/python3
"""Writes N realistic, seeded manifests under OUT (hooks/, skills/, tasks/,
tools/), shaped like a real AIMS checkout: quoted and plain scalars, 3-10
triggers, execution and dependency maps, 1 in 8 without an id, a few with a
singular trigger or unknown keys, ~1 in 200 with YAML that does not parse,
and markdown bodies of 1-4 KiB with sections, tables and code blocks.

Usage: gen.py OUT [N] [SEED] [BODIES]

BODIES: "mixed" (default: 35% title and intro only, 50% one or two
sections, 15% three to seven; ~1 KiB on average) or "large" (three to
seven sections each, ~3 KiB, like the two seed manifests).
"""
import os
import random
import sys

WORDS = ("run code execute deploy build test lint format search index fetch "
         "sync upload download render report schedule notify translate "
         "summarize analyze monitor backup restore migrate scan review merge "
         "python node bash docker cluster invoice email slack calendar ticket "
         "image video audio pdf sheet chart model prompt vector cache queue").split()
KINDS = (("tasks", "task"), ("skills", "skill"), ("hooks", "hook"), ("tools", "tool"))


def phrase(r, lo=2, hi=4):
    return " ".join(r.choice(WORDS) for _ in range(r.randint(lo, hi)))


def q(r, text):
    return '"%s"' % text if r.random() < 0.6 else text


def front_matter(r, i, kind):
    ident = "%s-%s-%d" % (r.choice(WORDS), r.choice(WORDS), i)
    name = phrase(r).title()
    lines = []
    if r.random() >= 0.125:
        lines.append("id: %s" % q(r, ident))
    lines.append("name: %s" % q(r, name))
    lines.append("type: %s" % q(r, kind))
    if kind == "tool":
        lines += ["category: %s" % q(r, r.choice(["ai", "data", "devops", "comms"])),
                  "provider: %s" % q(r, name.split()[0]),
                  "description: %s" % q(r, "Tool for %s." % phrase(r, 3, 8)),
                  "env_vars:",
                  "  - %s" % q(r, "%s_API_KEY" % name.split()[0].upper()),
                  "docs_url: %s" % q(r, "https://docs.example.com/%d" % i),
                  "aims_files:",
                  "  - %s" % q(r, "frontend/lib/services/s%d.ts" % i)]
        if r.random() < 0.3:
            lines += ["owner: %s" % q(r, "team-%d" % (i % 17)), "tier: %d" % (i % 3 + 1)]
        return lines
    lines.append("status: %s" % q(r, r.choice(["active"] * 6 + ["beta", "planned", "disabled"])))
    key = "trigger" if r.random() < 0.03 else "triggers"
    lines.append("%s:" % key)
    for t in range(r.randint(3, 10)):
        lines.append("  - %s" % q(r, "%s %d" % (phrase(r), i * 16 + t)))
    desc = "%s %s." % (phrase(r, 4, 10).capitalize(), "and more")
    if r.random() < 0.005:
        desc = "Note: this breaks YAML"  # unquoted ': '
        lines.append("description: %s" % desc)
    else:
        lines.append("description: %s" % q(r, desc))
    if kind == "task":
        lines += ["execution:",
                  "  target: %s" % q(r, r.choice(["api", "command", "internal", "mcp"])),
                  "  route: %s" % q(r, "/api/%s/%d" % (r.choice(WORDS), i)),
                  '  command: ""']
        if r.random() < 0.3:
            lines += ["  method: POST", "  body:", "    mode: %s" % r.choice(WORDS),
                      "    options:", "      retries: %d" % r.randint(0, 5)]
    lines += ["dependencies:", "  env:", "    - %s" % q(r, "SVC_%d_TOKEN" % (i % 97)),
              "  packages:", "    - \"@scope/%s\"" % r.choice(WORDS),
              "  files:", "    - %s" % q(r, "lib/%s/%d.ts" % (r.choice(WORDS), i))]
    lines.append("priority: %s" % q(r, r.choice(["critical", "high", "medium", "normal", "low"])))
    if r.random() < 0.05:
        lines.append("legacy_%s: %s" % (r.choice(WORDS), phrase(r)))
    if kind == "task" and r.random() < 0.05:
        lines.append('schedule: "0 %d * * *"' % (i % 24))
    return lines


def body(r, name, size):
    out = ["# %s" % name, "", phrase(r, 10, 30).capitalize() + ".", ""]
    if size == "large":
        sections = r.randint(3, 7)
    else:
        # Real folders mix many short stubs with a few long references.
        x = r.random()
        sections = 0 if x < 0.35 else r.randint(1, 2) if x < 0.85 else r.randint(3, 7)
    for s in range(sections):
        out += ["## %s" % phrase(r, 1, 3).title(), ""]
        kind = r.random()
        if kind < 0.3:
            out += ["```json", '{', '  "%s": "%s",' % (r.choice(WORDS), phrase(r)),
                    '  "count": %d' % r.randint(0, 99), '}', "```", ""]
        elif kind < 0.5:
            out += ["| Field | Value |", "|-------|-------|"]
            out += ["| %s | `%s` |" % (r.choice(WORDS), phrase(r, 1, 2)) for _ in range(4)]
            out.append("")
        elif kind < 0.65:
            out += ["```bash", "aims run \"%s\"" % phrase(r), "```", ""]
        for _ in range(r.randint(1, 4)):
            out += ["- **%s** - %s" % (r.choice(WORDS).title(), phrase(r, 5, 15))]
        out += ["", phrase(r, 20, 60).capitalize() + ".", ""]
    return "\n".join(out)


def main():
    out = sys.argv[1]
    n = int(sys.argv[2]) if len(sys.argv) > 2 else 10000
    seed = int(sys.argv[3]) if len(sys.argv) > 3 else 42
    size = sys.argv[4] if len(sys.argv) > 4 else "mixed"
    if size not in ("mixed", "large"):
        sys.exit("gen.py: BODIES is mixed or large")
    r = random.Random(seed)
    for sub, _ in KINDS:
        os.makedirs(os.path.join(out, sub), exist_ok=True)
    for i in range(n):
        sub, kind = KINDS[0] if i % 10 < 4 else KINDS[1] if i % 10 < 8 else KINDS[2] if i % 10 < 9 else KINDS[3]
        lines = front_matter(r, i, kind)
        text = "---\n" + "\n".join(lines) + "\n---\n\n" + body(r, "Manifest %d" % i, size)
        if r.random() > 0.05:
            text += "\n"  # some files lack a final newline
        suffix = ".tool.md" if kind == "tool" else ".md"
        with open(os.path.join(out, sub, "m%05d%s" % (i, suffix)), "w") as f:
            f.write(text)


if __name__ == "__main__":
    main()
