#!/usr/bin/env python3
"""Print a JSON list of adversarial environment variable values for stackwire's round-trip tests.

Each value is something a .env reader or a shell could misread: quotes of every kind, `$` and
`${…}` interpolation, `#` comments, backslash escapes, tabs, CR/LF, leading and trailing blanks,
`=`, `export`, Unicode whitespace and line separators, injection attempts, empty and 40 KB
values. The list is deterministic (no randomness), so a failure names a stable index.
"""

import json
import sys


def values():
    v = [
        # plain and empty
        "",
        "plain",
        "0",
        "postgres://app:p%40ss@db.example.com:5432/app?sslmode=require",
        "a=b=c",
        "=leading-equals",
        "trailing-equals=",
        "-dash,comma+plus@at/slash.dot:colon%pct_under",
        # blanks
        " ",
        "   ",
        " leading space",
        "trailing space ",
        "  both  ",
        "inner  spaces",
        "\t",
        "\ttab first",
        "tab last\t",
        "in\tner\ttabs",
        "\x0b vertical tab \x0c form feed",
        # comments
        "#",
        "#not a comment",
        "a#b",
        "a #b",
        "a # b",
        " # leading blank then hash",
        "value # comment-like suffix",
        # single quotes
        "'",
        "''",
        "'quoted'",
        "it's",
        "'leading",
        "trailing'",
        "a''b",
        # double quotes
        '"',
        '""',
        '"quoted"',
        'say "hi"',
        '"leading',
        'trailing"',
        # backticks
        "`",
        "`cmd`",
        "`leading",
        "a`b`c",
        "$(echo pwned)",
        "`echo pwned`",
        # mixed quotes
        "'\"",
        "\"'",
        "it's \"fine\"",
        "`'\"",
        "'a' \"b\" `c`",
        # dollars
        "$",
        "$$",
        "$HOME",
        "$X",
        "a$Xb",
        "cost: $5",
        "$ space",
        "trailing$",
        "${X}",
        "${HOME}",
        "${X:-default}",
        "${",
        "}",
        "${}",
        "a${X}b",
        "it's ${X}",
        "$'ansi-c'",
        '$"locale"',
        "it's $5",
        "$X\nsecond line",
        # backslashes
        "\\",
        "\\\\",
        "a\\b",
        "C:\\Users\\me\\file.txt",
        "\\\\server\\share",
        "trailing\\",
        "\\n",
        "\\t",
        "\\r",
        "\\'",
        '\\"',
        "\\$X",
        "\\u00e9",
        "\\x41\\101",
        "a\\\nb",
        "it's a\\b",
        # line breaks
        "\n",
        "\n\n",
        "line1\nline2",
        "line1\nline2\n",
        "\nleading newline",
        "\r",
        "\r\n",
        "cr\rinside",
        "crlf\r\ninside",
        "line1\nB=injected",
        "x'\nINJECTED=1\n'",
        'x"\nINJECTED=1\n"',
        "x\n#comment line\ny",
        "x\nexport INJECTED=1",
        "ghadelimiter_00000000-0000-4000-8000-000000000000\nEOF\nX=1",
        "EOF\nINJECTED=1\nEOF",
        # export keyword and key-like values
        "export",
        "export X=1",
        "X=1",
        "X: 1",
        # JSON, PEM, YAML
        '{"a": 1, "b": [true, null], "c": "d"}',
        '{\n  "a": 1,\n  "b": "two"\n}',
        "-----BEGIN PRIVATE KEY-----\nMIIEvQIBADANBgkqhkiG9w0BAQEFAASC\nAbCdEf+/=\n-----END PRIVATE KEY-----\n",
        "apiVersion: v1\nkind: Config\nclusters:\n- name: c\n  cluster:\n    server: https://1.2.3.4\n",
        # unicode
        "café",
        "日本語の値",
        "emoji 🎉🔑",
        "e\u0301 combining",
        "\u202eRTL override",
        "zero\u200bwidth",
        "\u00a0nbsp around\u00a0",
        "\ufeffBOM first",
        "BOM last\ufeff",
        "\u2028",
        "line\u2028separator",
        "para\u2029separator",
        "\u2028leading and trailing\u2029",
        "next\u0085line",
        "\u0085",
        "ogham\u1680space",
        "\u2000\u2001\u2002\u2003\u2004\u2005\u2006\u2007\u2008\u2009\u200a",
        "\u202f\u205f\u3000",
        "\u001c\u001d\u001e\u001f separators",
        "\u001b[31mansi red\u001b[0m",
        "bell\x07backspace\x08delete\x7f",
        "\u201csmart quotes\u201d \u2018single\u2019",
        "\u00abguillemets\u00bb",
        "\uff02fullwidth quote\uff02 \uff07",
        # NUL
        "\x00",
        "nul\x00inside",
        # long values
        "x" * 40 * 1024,
        ("0123456789abcdefghij-/" * 2000)[: 40 * 1024],
        ("a b\tc 'd' é\n" * 3500)[: 40 * 1024],
        ("line with \"quotes\" and $dollars\n" * 1300)[: 40 * 1024],
    ]
    return v


if __name__ == "__main__":
    json.dump(values(), sys.stdout)
    sys.stdout.write("\n")
