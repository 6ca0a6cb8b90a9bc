"""`zhibiao user …` and `zhibiao apikey …`: curator accounts and API keys."""
from __future__ import annotations

import click
from flask.cli import AppGroup

from server.db import get_session, require_schema
from kb import auth as kbauth
from api.cli.output import echo_json


def _when(value) -> str:
    return f"{value:%Y-%m-%d %H:%M}" if value else "—"


@click.group("user", cls=AppGroup)
def user_group() -> None:
    """维护员和管理员账号（网页登录用）。"""


@user_group.command("create")
@click.argument("name")
@click.option("--role", type=click.Choice(kbauth.ROLES), required=True, help="curator 维护员，admin 管理员")
@click.option("--password", envvar="ZHIBIAO_PASSWORD", prompt="密码", hide_input=True, confirmation_prompt="再输入一次",
              help="密码（不填则取 $ZHIBIAO_PASSWORD，再没有则提示输入）")
@click.option("--json", "as_json", is_flag=True, help="以 JSON 输出")
def user_create(name: str, role: str, password: str, as_json: bool) -> None:
    """新建账号 NAME，角色为 curator（维护员）或 admin（管理员）。"""
    require_schema()
    user = kbauth.create_user(get_session(), name, password, role)
    if as_json:
        echo_json({"name": user.name, "role": user.role})
        return
    click.echo(f"已创建用户 {user.name}（{user.role}）")


@user_group.command("password")
@click.argument("name")
@click.option("--password", envvar="ZHIBIAO_PASSWORD", prompt="新密码", hide_input=True, confirmation_prompt="再输入一次",
              help="新密码（不填则取 $ZHIBIAO_PASSWORD，再没有则提示输入）")
@click.option("--json", "as_json", is_flag=True, help="以 JSON 输出")
def user_password(name: str, password: str, as_json: bool) -> None:
    """重设 NAME 的密码；NAME 已登录的会话全部失效。"""
    require_schema()
    user = kbauth.set_password(get_session(), name, password)
    _say(as_json, {"name": user.name, "role": user.role, "sessions_ended": True},
         f"已修改用户 {user.name} 的密码；其所有已登录的会话均已结束")


@user_group.command("role")
@click.argument("name")
@click.argument("role", type=click.Choice(kbauth.ROLES))
@click.option("--json", "as_json", is_flag=True, help="以 JSON 输出")
def user_role(name: str, role: str, as_json: bool) -> None:
    """把 NAME 的角色改为 curator 或 admin；NAME 已登录的会话全部失效。"""
    require_schema()
    user = kbauth.set_role(get_session(), name, role)
    _say(as_json, {"name": user.name, "role": user.role, "sessions_ended": True},
         f"用户 {user.name} 的角色已改为 {user.role}；其所有已登录的会话均已结束")


@click.group("apikey", cls=AppGroup)
def apikey_group() -> None:
    """供其他系统调用接口的密钥（Authorization: Bearer …）。"""


@apikey_group.command("create")
@click.argument("name")
@click.option("--scopes", default="read", show_default=True, help="权限，逗号分隔：read（读）、suggest（推荐与审核）、curate（维护）")
@click.option("--json", "as_json", is_flag=True, help="以 JSON 输出")
def apikey_create(name: str, scopes: str, as_json: bool) -> None:
    """新建密钥；密钥全文只显示这一次。"""
    require_schema()
    new = kbauth.create_api_key(get_session(), name, scopes)
    if as_json:
        echo_json({"id": new.key.id, "name": new.key.name, "scopes": list(new.key.scopes), "token": new.token})
        return
    click.echo(f"已创建 API 密钥 #{new.key.id} {new.key.name}（{','.join(new.key.scopes)}）。请妥善保存，此后不再显示：")
    click.echo(new.token)


@apikey_group.command("list")
@click.option("--json", "as_json", is_flag=True, help="以 JSON 输出")
def apikey_list(as_json: bool) -> None:
    """列出密钥（不显示密钥全文）。"""
    require_schema()
    keys = kbauth.list_api_keys(get_session())
    if as_json:
        echo_json({"keys": [{"id": k.id, "name": k.name, "prefix": k.prefix, "scopes": k.scopes, "created_at": k.created_at,
                             "last_used_at": k.last_used_at, "revoked_at": k.revoked_at} for k in keys]})
        return
    for k in keys:
        state = f"已吊销 {_when(k.revoked_at)}" if k.revoked_at else "有效"
        click.echo(f"#{k.id:<4} {k.name:<20} {k.prefix}…  {','.join(k.scopes):<20} 创建 {_when(k.created_at)}  "
                   f"最近使用 {_when(k.last_used_at)}  {state}")


@apikey_group.command("revoke")
@click.argument("key_id", metavar="ID", type=int)
@click.option("--json", "as_json", is_flag=True, help="以 JSON 输出")
def apikey_revoke(key_id: int, as_json: bool) -> None:
    """立即吊销密钥 ID。"""
    require_schema()
    key = kbauth.revoke_api_key(get_session(), key_id)
    _say(as_json, {"id": key.id, "name": key.name, "revoked": True}, f"已吊销 API 密钥 #{key.id} {key.name}")


def _say(as_json: bool, data: dict, text: str) -> None:
    """One JSON document with --json, else the sentence."""
    if as_json:
        echo_json(data)
    else:
        click.echo(text)


def register(cli: click.Group) -> None:
    cli.add_command(user_group)
    cli.add_command(apikey_group)
