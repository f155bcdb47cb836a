"""The filter-syntax cheat sheet: ONE text, shown by `?` on the Contacts screen and in
the filter panel (screens/help.py), and copied verbatim into docs/filter-syntax.md
and the README (tests/ui/test_filter_help.py checks the copies and that every
example parses). Plain text, at most 68 columns, so it fits an 80x24 help dialog.

The syntax itself is defined by session_tui/data/filters/text.py.
"""

from __future__ import annotations

FILTER_SYNTAX = """\
Type a filter in the filter panel's Text box (f) or give it to the
CLI's --filter. A condition is field:value, no space around the ":".

  product:NAME    has a membership of NAME: product:"1:1 Coaching"
  status:VALUE    active, expired or none (all = no condition)
  payment:VALUE   paid, free or comped (also payment_type:VALUE)
  search:TEXT     first/last name or email contains TEXT
  TEXT            a bare word or "quoted text" is a search too
  domain:NAME     the email domain is NAME (also email_domain:)
  joined:DATE     joined on that day; DATE is YYYY-MM-DD
  joined:>=DATE   also joined:<DATE, <=, >, = (before, after...)
  expires:30d     a membership expires within 30 days (or 30)

Combine conditions:
  a b, a and b    both (side by side means and)
  a or b          either; and binds tighter than or
  not a           for product, search and domain only:
                  not product:X = has no membership of X
  ( ... )         a group, one level deep: a and (b or c)
  "two words"     quote values with spaces, ( ) or "  (\\" = ")
Field names and and/or/not ignore case. Errors name the column.
In one and-group, product, status and payment describe the SAME
membership: product:X status:active = an active membership of X.

Examples:
  product:"1:1 Coaching" and status:active
      an active 1:1 Coaching membership
  payment:comped
      has a comped membership
  ann                     (the same as search:ann)
      first name, last name or email contains "ann"
  product:"1:1 Coaching" or product:"Group Program"
      a membership of either product
  expires:30d
      a membership that expires within the next 30 days
  product:"1:1 Coaching" and (status:active or payment:comped)
      a 1:1 Coaching membership that is active or comped
  search:ann domain:gmail.com
  joined:>=2026-01-01 joined:<2026-06-01
  not product:Course"""

# The examples above, one per line, in the order shown (tests parse every one).
FILTER_EXAMPLES = [
    'product:"1:1 Coaching" and status:active',
    "payment:comped",
    "ann",
    'product:"1:1 Coaching" or product:"Group Program"',
    "expires:30d",
    'product:"1:1 Coaching" and (status:active or payment:comped)',
    "search:ann domain:gmail.com",
    "joined:>=2026-01-01 joined:<2026-06-01",
    "not product:Course",
]
