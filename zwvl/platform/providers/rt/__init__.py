"""Request Tracker 5: the client (REST2 + the admin web interface, `client`) and Pulumi dynamic
providers, one resource (or one record with what hangs on it) a module.

What REST2 in RT 5.0.3 can and cannot do, and how each provider copes:

- queues, users, groups, group members, custom fields and their values: REST2 (create, read, update;
  "delete" disables, because RT never deletes these records). Creating a record whose name belongs to
  a disabled one re-enables and updates it, so destroy followed by up converges (`base`).
- a queue's default SLA can only be set when the queue is created (REST2 ignores it on update and
  does not return it), so it is a create-time property: changing it replaces the queue (`queue`).
- queues are created with SLA disabled unless `SLADisabled: 0` is sent: every queue sends it.
- rights and applying a custom field to queues: REST2 has no endpoint for either, so these two
  providers use RT's admin web interface (`/Admin/Queues/GroupRights.html`,
  `/Admin/CustomFields/Objects.html`), authenticated by the same auth token (RT accepts
  `Authorization: token` on its web pages too), and read the rights back from the same page
  (`rights`, `custom_field`).
- an unknown SLA name is accepted by REST2 silently and the ticket loses its due dates, so
  `RtClient.create_ticket` checks the name against the inventory's SLA set first.

Credentials: an RT auth token, the stack secret `zwvl:rtToken`, else `$ZWVL_RT_TOKEN`; TLS verified
against `zwvl:rtCaFile`, else `$ZWVL_CA_FILE`, else the system's CAs. The RT URL is an input of
every resource (from NetBox).
"""

from zwvl.platform.providers.rt.base import RecordArgs, RecordProvider, RtArgs, RtProvider
from zwvl.platform.providers.rt.client import RtClient, RtError
from zwvl.platform.providers.rt.custom_field import (
    CustomField,
    CustomFieldArgs,
    CustomFieldProvider,
    CustomFieldQueues,
    CustomFieldQueuesArgs,
    CustomFieldQueuesProvider,
)
from zwvl.platform.providers.rt.group import (
    Group,
    GroupArgs,
    GroupMembers,
    GroupMembersArgs,
    GroupMembersProvider,
    GroupProvider,
)
from zwvl.platform.providers.rt.queue import Queue, QueueArgs, QueueProvider
from zwvl.platform.providers.rt.rights import QueueRights, QueueRightsArgs, QueueRightsProvider
from zwvl.platform.providers.rt.user import User, UserArgs, UserProvider

__all__ = [
    "CustomField",
    "CustomFieldArgs",
    "CustomFieldProvider",
    "CustomFieldQueues",
    "CustomFieldQueuesArgs",
    "CustomFieldQueuesProvider",
    "Group",
    "GroupArgs",
    "GroupMembers",
    "GroupMembersArgs",
    "GroupMembersProvider",
    "GroupProvider",
    "Queue",
    "QueueArgs",
    "QueueProvider",
    "QueueRights",
    "QueueRightsArgs",
    "QueueRightsProvider",
    "RecordArgs",
    "RecordProvider",
    "RtArgs",
    "RtClient",
    "RtError",
    "RtProvider",
    "User",
    "UserArgs",
    "UserProvider",
]
