"""The old home of the Request Tracker providers, importable for the state as `zwvl.platform.pg` is
(see there): states written before the move name `zwvl.platform.rt.QueueProvider` and the like.
New code imports `zwvl.platform.providers.rt`.
"""

from zwvl.platform.providers.rt import *  # noqa: F403
