"""Where the PostgreSQL providers lived before `zwvl.platform.providers.postgres`; kept for the state.

Pulumi pickles a dynamic provider into every resource's state by module path, so stacks created
before the move hold `zwvl.platform.pg.RoleProvider` and the like, and `refresh`, `destroy` and the
deletes of a replacement load the provider by that name. New code imports the package instead.
"""

from zwvl.platform.providers.postgres import *  # noqa: F403
