"""Response and argument schemas of the REST API (record schemas live in kb.schemas)."""
from marshmallow import Schema, fields


class VersionSchema(Schema):
    label = fields.String()
    published_at = fields.DateTime(allow_none=True)
    notes = fields.String()
    is_current = fields.Boolean()
    counts = fields.Dict()


class VersionListSchema(Schema):
    current = fields.String(allow_none=True)
    versions = fields.List(fields.Nested(VersionSchema))


class FieldChangeSchema(Schema):
    previous = fields.Raw(allow_none=True)
    current = fields.Raw(allow_none=True)


class ChangeSchema(Schema):
    kind = fields.String()
    code = fields.String()
    name = fields.String()
    change = fields.String()
    fields = fields.Dict(keys=fields.String(), values=fields.Nested(FieldChangeSchema))


class DiffSchema(Schema):
    a = fields.String()
    b = fields.String()
    summary = fields.Dict()
    changes = fields.List(fields.Nested(ChangeSchema))
