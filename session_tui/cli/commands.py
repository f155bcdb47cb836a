"""How a command module declares its subcommands: a `Command` (name, handler, help,
arguments) or a `CommandGroup` of them (`session-tui NAME ACTION`), listed in the module's
COMMANDS and added to argparse by `add_commands`.

An argument is anything that adds itself to a parser: `Argument(...)` (one
`add_argument` call), `one_of(...)` (a mutually exclusive set), or a function of the
parser. A command or group given `examples` ends its --help with them; the others get
theirs from cli/examples.py.
"""

from __future__ import annotations

import argparse
from collections.abc import Callable, Iterable, Sequence
from dataclasses import dataclass
from typing import Any

from session_tui.cli.common import show_usage

Handler = Callable[[argparse.Namespace], int | None]
AddArgument = Callable[[argparse.ArgumentParser], object]


class Argument:
    """One `add_argument(*names, **options)`, made when a command's parser is built."""

    def __init__(self, *names: str, **options: Any) -> None:
        self.names = names
        self.options = options

    def __call__(self, parser: argparse._ActionsContainer) -> argparse.Action:
        return parser.add_argument(*self.names, **self.options)


# What the commands that act on a thing by its name take (segments, products).
NAME = Argument("name", metavar="NAME")
RENAME = [Argument("old", metavar="OLD"), Argument("new", metavar="NEW")]


def one_of(*arguments: Argument) -> AddArgument:
    """Arguments of which at most one may be given."""

    def add(parser: argparse.ArgumentParser) -> None:
        group = parser.add_mutually_exclusive_group()
        for argument in arguments:
            argument(group)

    return add


@dataclass(frozen=True)
class Command:
    """A subcommand: `help` is also its --help description."""

    name: str
    handler: Handler
    help: str
    arguments: Sequence[AddArgument] = ()
    examples: Sequence[str] = ()

    def add_to(self, sub: Any, common: argparse.ArgumentParser) -> None:
        parser = _add_parser(sub, common, self.name, self.help, self.help, self.examples)
        parser.set_defaults(handler=self.handler)
        for add in self.arguments:
            add(parser)


@dataclass(frozen=True)
class CommandGroup:
    """A command group (`session-tui NAME ACTION`); called without an ACTION it shows
    its usage."""

    name: str
    help: str
    description: str
    commands: Sequence[Command]
    examples: Sequence[str] = ()

    def add_to(self, sub: Any, common: argparse.ArgumentParser) -> None:
        parser = _add_parser(sub, common, self.name, self.help, self.description, self.examples)
        parser.set_defaults(handler=lambda _args: show_usage(parser))
        actions = parser.add_subparsers(dest=f"{self.name}_command", metavar="ACTION")
        add_commands(actions, common, self.commands)


def add_commands(
    sub: Any, common: argparse.ArgumentParser, commands: Iterable[Command | CommandGroup]
) -> None:
    for command in commands:
        command.add_to(sub, common)


def _add_parser(
    sub: Any,
    common: argparse.ArgumentParser,
    name: str,
    help: str,
    description: str,
    examples: Sequence[str],
) -> argparse.ArgumentParser:
    """A subcommand's parser; with `examples`, its --help ends with them (and its
    description is shown as written)."""
    parser: argparse.ArgumentParser = sub.add_parser(
        name, help=help, description=description, parents=[common]
    )
    if examples:
        parser.epilog = "examples:\n" + "\n".join(f"  {line}" for line in examples)
        parser.formatter_class = argparse.RawDescriptionHelpFormatter
    return parser
