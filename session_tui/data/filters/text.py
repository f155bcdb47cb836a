"""The text form of a filter: a parser (with positioned errors) and a printer.

Grammar (keywords and field names ignore case)::

    filter    := [or_expr] EOF
    or_expr   := and_expr ("or" and_expr)*
    and_expr  := unary (["and"] unary)*          juxtaposition = and
    unary     := "not" condition | condition | "(" or_expr ")"
    condition := FIELD ":" [OP] VALUE            no space around ":"
               | VALUE                           a bare word or "quoted text" = search
    FIELD     := product | status | payment | search | joined | expires | domain
                 (aliases: payment_type, email_domain)
    OP        := < | <= | > | >= | =             joined only; none = on that day
    VALUE     := a word without spaces, ( ) or " -- or "quoted", with \\" and \\\\

`and` binds tighter than `or`. Groups nest one level deep: `a or (b and c)` is
fine, `a and (b or (c and d))` is not. `not` applies to one condition of
product, search or domain (`not product:X` = has no membership of X).

`parse()` raises `FilterSyntaxError` (with a 1-based `column`) for any text it
does not accept, and never any other exception. `to_text()` prints a filter so
that `parse(to_text(f)) == normalize(f)`; the printing is in `printing.py`
(importable from here too).
"""

from __future__ import annotations

import re
from dataclasses import dataclass

from session_tui.data.filters.ast import EMPTY, Group
from session_tui.data.filters.conditions import (
    NEGATIONS,
    Condition,
    FieldName,
    FilterError,
    Mode,
    Op,
)
from session_tui.data.filters.printing import JOINED_OPS, condition_text, quote, to_text

__all__ = [
    "FIELD_ALIASES",
    "MAX_LENGTH",
    "MAX_PARENS",
    "FilterSyntaxError",
    "condition_text",
    "parse",
    "quote",
    "to_text",
]

MAX_LENGTH = 10_000
MAX_PARENS = 12

FIELD_ALIASES: dict[str, FieldName] = {
    "product": FieldName.PRODUCT,
    "status": FieldName.STATUS,
    "payment": FieldName.PAYMENT,
    "payment_type": FieldName.PAYMENT,
    "search": FieldName.SEARCH,
    "joined": FieldName.JOINED,
    "expires": FieldName.EXPIRES,
    "domain": FieldName.DOMAIN,
    "email_domain": FieldName.DOMAIN,
}
_FIELD_LIST = "product, status, payment, search, joined, expires, domain"

_NOT_HINTS: dict[FieldName, str] = {
    FieldName.STATUS: "use status:expired or status:none instead",
    FieldName.PAYMENT: "list the other types instead, e.g. (payment:free or payment:comped)",
    FieldName.JOINED: "use the opposite comparison instead, e.g. joined:<2026-01-01",
    FieldName.EXPIRES: "it only applies to product, search and domain",
}


class FilterSyntaxError(FilterError):
    """The text form could not be read; `column` (1-based) says where."""

    def __init__(self, message: str, column: int) -> None:
        super().__init__(f"column {column}: {message}")
        self.message = message
        self.column = column


# -- tokens ---------------------------------------------------------------------------
@dataclass(frozen=True)
class _Tok:
    kind: str  # "(" ")" "word" "str" "eof"
    text: str
    col: int  # 1-based column of the first character
    end: int  # column just after the token
    adjacent: bool  # no whitespace between the previous token and this one

    @property
    def keyword(self) -> str | None:
        if self.kind == "word" and self.text.lower() in ("and", "or", "not"):
            return self.text.lower()
        return None

    @property
    def starts_condition(self) -> bool:
        return self.kind == "str" or (self.kind == "word" and self.keyword is None)


def _tokens(text: str) -> list[_Tok]:
    out: list[_Tok] = []
    i, n = 0, len(text)
    last_end = -1
    while i < n:
        ch = text[i]
        if ch.isspace():
            i += 1
            continue
        adjacent = i == last_end
        if ch in "()":
            out.append(_Tok(ch, ch, i + 1, i + 2, adjacent))
            i += 1
        elif ch == '"':
            start = i
            i += 1
            buf: list[str] = []
            while True:
                if i >= n:
                    raise FilterSyntaxError('this quote is never closed (add a ")', start + 1)
                c = text[i]
                if c == "\\" and i + 1 < n:
                    buf.append(text[i + 1])
                    i += 2
                    continue
                if c == '"':
                    i += 1
                    break
                buf.append(c)
                i += 1
            out.append(_Tok("str", "".join(buf), start + 1, i + 1, adjacent))
        else:
            start = i
            while i < n and not text[i].isspace() and text[i] not in '()"':
                i += 1
            out.append(_Tok("word", text[start:i], start + 1, i + 1, adjacent))
        last_end = i
    out.append(_Tok("eof", "", n + 1, n + 1, False))
    return out


# -- parse tree -----------------------------------------------------------------------
@dataclass(frozen=True)
class _Node:
    kind: str  # "cond" "and" "or"
    col: int
    cond: Condition | None = None
    children: tuple[_Node, ...] = ()


class _Parser:
    def __init__(self, text: str) -> None:
        self.toks = _tokens(text)
        self.pos = 0

    def peek(self) -> _Tok:
        return self.toks[self.pos]

    def take(self) -> _Tok:
        tok = self.toks[self.pos]
        if tok.kind != "eof":
            self.pos += 1
        return tok

    def _describe(self, tok: _Tok) -> str:
        if tok.kind == "eof":
            return "the end"
        if tok.kind == "str":
            return "a quoted text"
        return repr(tok.text if len(tok.text) <= 20 else tok.text[:20] + "…")

    def expect_condition(self, after: str) -> None:
        tok = self.peek()
        if tok.kind == "(" or tok.starts_condition or tok.keyword == "not":
            return
        where = f" after {after}" if after else ""
        raise FilterSyntaxError(
            f"expected a condition{where}, found {self._describe(tok)}", tok.col
        )

    # or_expr := and_expr ("or" and_expr)*
    def or_expr(self, depth: int) -> _Node:
        first = self.and_expr(depth)
        children = [first]
        while self.peek().keyword == "or":
            self.take()
            self.expect_condition("'or'")
            children.append(self.and_expr(depth))
        if len(children) == 1:
            return first
        return _Node("or", first.col, children=tuple(children))

    # and_expr := unary (["and"] unary)*
    def and_expr(self, depth: int) -> _Node:
        self.expect_condition("")
        first = self.unary(depth)
        children = [first]
        while True:
            tok = self.peek()
            if tok.keyword == "and":
                self.take()
                self.expect_condition("'and'")
            elif not (tok.kind == "(" or tok.starts_condition or tok.keyword == "not"):
                break
            children.append(self.unary(depth))
        if len(children) == 1:
            return first
        return _Node("and", first.col, children=tuple(children))

    def unary(self, depth: int) -> _Node:
        tok = self.peek()
        if tok.keyword == "not":
            self.take()
            nxt = self.peek()
            if nxt.kind == "(":
                raise FilterSyntaxError("'not' applies to one condition, not to a group", tok.col)
            if not nxt.starts_condition:
                raise FilterSyntaxError(
                    f"expected a condition after 'not', found {self._describe(nxt)}", nxt.col
                )
            node = self.condition()
            assert node.cond is not None
            cond = node.cond
            negated = NEGATIONS.get((cond.field, cond.op))
            if negated is None:
                hint = _NOT_HINTS.get(cond.field, "")
                raise FilterSyntaxError(
                    f"'not' cannot be used with {cond.field.value}" + (f"; {hint}" if hint else ""),
                    tok.col,
                )
            return _Node("cond", tok.col, cond=Condition(cond.field, negated, cond.value))
        if tok.kind == "(":
            self.take()
            if depth + 1 > MAX_PARENS:
                raise FilterSyntaxError("too many nested parentheses", tok.col)
            if self.peek().kind == ")":
                raise FilterSyntaxError("empty parentheses", self.peek().col)
            inner = self.or_expr(depth + 1)
            close = self.peek()
            if close.kind != ")":
                if close.kind == "eof":
                    raise FilterSyntaxError("this '(' is never closed (add a ')')", tok.col)
                raise FilterSyntaxError(
                    f"expected ')' or a condition, found {self._describe(close)}", close.col
                )
            self.take()
            return _Node(inner.kind, tok.col, cond=inner.cond, children=inner.children)
        return self.condition()

    def condition(self) -> _Node:
        tok = self.take()
        if tok.kind == "str":
            return _Node(
                "cond", tok.col, cond=self.make(FieldName.SEARCH, Op.CONTAINS, tok.text, tok.col)
            )
        text = tok.text
        colon = text.find(":")
        if colon < 0:
            _refuse_comparison_typo(text, tok.col)
            return _Node(
                "cond", tok.col, cond=self.make(FieldName.SEARCH, Op.CONTAINS, text, tok.col)
            )
        name = text[:colon]
        if not name:
            raise FilterSyntaxError(f"a field name is missing before ':' ({_FIELD_LIST})", tok.col)
        fld = FIELD_ALIASES.get(name.lower())
        if fld is None:
            shown = name if len(name) <= 20 else name[:20] + "…"
            raise FilterSyntaxError(f"unknown field {shown!r}; fields are {_FIELD_LIST}", tok.col)
        rest = text[colon + 1 :]
        value_col = tok.col + colon + 1
        op = Op.IS
        if fld is FieldName.SEARCH:
            op = Op.CONTAINS
        elif fld is FieldName.EXPIRES:
            op = Op.WITHIN
        elif fld is FieldName.JOINED:
            op = Op.ON
            for prefix, candidate in JOINED_OPS:
                if rest.startswith(prefix):
                    op = candidate
                    rest = rest[len(prefix) :]
                    value_col += len(prefix)
                    break
        nxt = self.peek()
        if not rest:
            if nxt.kind == "str" and nxt.adjacent:
                self.take()
                return _Node("cond", tok.col, cond=self.make(fld, op, nxt.text, nxt.col))
            raise FilterSyntaxError(
                f"expected a value right after '{text}' (no space; quote values with spaces)",
                value_col,
            )
        if nxt.kind == "str" and nxt.adjacent:
            raise FilterSyntaxError(
                "unexpected quote inside a value; quote the whole value", nxt.col
            )
        return _Node("cond", tok.col, cond=self.make(fld, op, rest, value_col))

    @staticmethod
    def make(fld: FieldName, op: Op, value: str, col: int) -> Condition:
        try:
            return Condition(fld, op, value)
        except FilterError as exc:
            raise FilterSyntaxError(str(exc), col) from None


# A bare word like `joined>2030-01-01` (the colon forgotten): a known field name, then
# a comparison, then a value. Searching for that text is never what was meant.
_COMPARISON_TYPO = re.compile(
    r"(?P<field>[A-Za-z_]+)(?P<op>==|!=|<=|>=|=<|=>|<|>|=|!)(?P<value>[^<>=!].*)", re.DOTALL
)


def _refuse_comparison_typo(word: str, col: int) -> None:
    """Raise "did you mean `joined:>2030-01-01`?" for a bare word that is a field
    comparison without its colon. An error rather than a warning: the search it
    would otherwise run matches nothing, silently. A quoted word ("joined>x") is
    still a search, for the rare name that really looks like this."""
    found = _COMPARISON_TYPO.fullmatch(word)
    if found is None:
        return
    fld = FIELD_ALIASES.get(found["field"].lower())
    if fld is None:
        return
    op = {"=<": "<=", "=>": ">=", "==": "="}.get(found["op"], found["op"])
    value = found["value"]
    name = found["field"].lower()
    if op in ("!=", "!"):
        meant = f"not {name}:{value}"
    elif fld is FieldName.JOINED and op != "=":
        meant = f"{name}:{op}{value}"
    else:
        meant = f"{name}:{value}"
    raise FilterSyntaxError(
        f"did you mean `{meant}`? (a field and its value are joined by ':'; "
        f'to search for the text itself, quote it: "{word}")',
        col,
    )


def _to_group(node: _Node) -> Group:
    if node.kind == "cond":
        assert node.cond is not None
        return Group(Mode.AND, (node.cond,))
    items: list[Condition | Group] = []
    for child in node.children:
        if child.kind == "cond":
            assert child.cond is not None
            items.append(child.cond)
            continue
        inner: list[Condition | Group] = []
        for grandchild in child.children:
            if grandchild.kind != "cond":
                raise FilterSyntaxError("groups can be nested only one level deep", grandchild.col)
            assert grandchild.cond is not None
            inner.append(grandchild.cond)
        items.append(Group(Mode(child.kind), tuple(inner)))
    return Group(Mode(node.kind), tuple(items))


def parse(text: str) -> Group:
    """The filter written in `text`; raises FilterSyntaxError (never anything else)."""
    if not isinstance(text, str):
        raise FilterSyntaxError("a filter must be text", 1)
    if len(text) > MAX_LENGTH:
        raise FilterSyntaxError(
            f"the filter is longer than {MAX_LENGTH} characters", MAX_LENGTH + 1
        )
    try:
        parser = _Parser(text)
        if parser.peek().kind == "eof":
            return EMPTY
        node = parser.or_expr(0)
        tok = parser.peek()
        if tok.kind == ")":
            raise FilterSyntaxError("unexpected ')' (no '(' to close)", tok.col)
        if tok.kind != "eof":  # pragma: no cover - or_expr consumes everything else
            raise FilterSyntaxError(f"unexpected {parser._describe(tok)}", tok.col)
        return _to_group(node)
    except FilterSyntaxError:
        raise
    except RecursionError:  # pragma: no cover - bounded by MAX_PARENS
        raise FilterSyntaxError("the filter is nested too deeply", 1) from None
    except Exception as exc:  # noqa: BLE001 - the promise: a positioned error, nothing else
        raise FilterSyntaxError(f"cannot read the filter ({type(exc).__name__})", 1) from None
