"""The command line in one language: click's own words (Usage:, Options, its
error messages) in Chinese.

click looks its messages up through gettext (`_()` and `ngettext()` in each of
its modules), which finds nothing for Chinese unless a compiled catalogue is
installed for the process's locale; the machines the bureau runs this on have
no such locale. So the lookup functions of click's modules are pointed at the
table below, once, when the command line starts. A message not in the table
stays as click wrote it.
"""
from __future__ import annotations

MESSAGES = {
    "Usage:": "用法：",
    "Options": "选项",
    "Commands": "命令",
    "Positional arguments": "参数",
    "Show this message and exit.": "显示本帮助并退出。",
    "Show the version and exit.": "显示版本并退出。",
    "Aborted!": "已取消。",
    "Error: {message}": "错误：{message}",
    "Try '{command} {option}' for help.": "用“{command} {option}”查看帮助。",
    "Missing command.": "缺少命令。",
    "No such command {name!r}.": "没有命令 {name!r}。",
    "No such option {name!r}.": "没有选项 {name!r}。",
    "Option {name!r} does not take a value.": "选项 {name!r} 不带值。",
    "Missing argument": "缺少参数",
    "Missing option": "缺少选项",
    "Missing parameter": "缺少参数",
    "Missing parameter: {param_name}": "缺少参数：{param_name}",
    "Missing {param_type}": "缺少{param_type}",
    "argument": "参数",
    "option": "选项",
    "parameter": "参数",
    "Invalid value for {param_hint}: {message}": "{param_hint} 的值不正确：{message}",
    "Invalid value: {message}": "值不正确：{message}",
    "{value!r} is not a valid {number_type}.": "{value!r} 不是有效的{number_type}。",
    "integer": "整数",
    "float": "数字",
    "{value} is not in the range {range}.": "{value} 不在 {range} 范围内。",
    "{name} {filename!r} does not exist.": "{name} {filename!r} 不存在。",
    "{name} {filename!r} is a directory.": "{name} {filename!r} 是文件夹。",
    "{name} {filename!r} is a file.": "{name} {filename!r} 是文件，不是文件夹。",
    "{name} {filename!r} is not readable.": "{name} {filename!r} 无法读取。",
    "{name} {filename!r} is not writable.": "{name} {filename!r} 无法写入。",
    "File": "文件",
    "Directory": "文件夹",
    "Path": "路径",
    "Could not open file {filename!r}: {message}": "无法打开文件 {filename!r}：{message}",
    "default: {default}": "默认：{default}",
    "env var: {var}": "环境变量：{var}",
    "required": "必填",
    "Value must be an iterable.": "值应为一组。",
}
PLURALS = {
    "{value!r} is not {choice}.": "{value!r} 不是 {choice}。",
    "{value!r} is not one of {choices}.": "{value!r} 不在可选值 {choices} 之中。",
    "Did you mean {possibility}?": "您是否想用 {possibility}？",
    "(Did you mean one of: {possibilities}?)": "（您是否想用其中之一：{possibilities}？）",
    "Got unexpected extra argument ({args})": "多余的参数（{args}）",
    "Got unexpected extra arguments ({args})": "多余的参数（{args}）",
    "Option {name!r} requires an argument.": "选项 {name!r} 需要一个值。",
    "Option {name!r} requires {nargs} arguments.": "选项 {name!r} 需要 {nargs} 个值。",
    "Argument {name!r} takes {nargs} values.": "参数 {name!r} 需要 {nargs} 个值。",
}


def gettext(message: str) -> str:
    return MESSAGES.get(message, message)


def ngettext(singular: str, plural: str, n: int) -> str:
    chosen = singular if n == 1 else plural
    return PLURALS.get(chosen, MESSAGES.get(chosen, chosen))


def install() -> None:
    """Point click's message lookups at the table (idempotent)."""
    import importlib

    for name in ("core", "decorators", "exceptions", "formatting", "parser", "types", "termui", "utils"):
        module = importlib.import_module(f"click.{name}")
        if hasattr(module, "_"):
            module._ = gettext
        if hasattr(module, "ngettext"):
            module.ngettext = ngettext


install()


# words click puts into messages without looking them up (type names), and its closing full stop
_WORDS = (("integer range", "整数"), ("float range", "数字"), ("integer", "整数"), ("float", "数字"), ("boolean", "是/否"))


def finish(message: str) -> str:
    for english, chinese in _WORDS:
        message = message.replace(english, chinese)
    return message[:-1] + "。" if message.endswith(".") else message


def localise(command, options: str = "[选项]") -> None:
    """The usage line in Chinese: [选项] for [OPTIONS], 命令 [参数]... for COMMAND [ARGS]..., on every command."""
    command.options_metavar = options
    subcommands = getattr(command, "commands", None)
    if subcommands is not None:
        command.subcommand_metavar = "命令 [参数]..."
        for sub in subcommands.values():
            localise(sub, options)
