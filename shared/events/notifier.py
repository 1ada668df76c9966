"""Events the notifier produces; keyed by the notification id. No email address travels here."""
from marshmallow import Schema, fields, validate

from shared.events.fields import Id, Lang


class NotificationSchema(Schema):
    notification_id = Id(required=True)
    participant_id = Id(load_default=None, allow_none=True)
    event_id = fields.String(required=True)
    event_type = fields.String(required=True)
    template = fields.String(required=True)
    language = Lang(required=True)
    channel = fields.String(load_default="email", validate=validate.OneOf(("email",)))
    attempts = fields.Integer(required=True)


class NotificationFailedSchema(NotificationSchema):
    error = fields.String(required=True)
    permanent = fields.Boolean(required=True)


EVENTS = {
    "notification-sent": (1, NotificationSchema, "notification_id"),
    "notification-failed": (1, NotificationFailedSchema, "notification_id"),
}
