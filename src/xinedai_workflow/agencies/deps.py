"""The agency service as a route dependency (the instance the app was built with)."""

from __future__ import annotations

from typing import Annotated

from fastapi import Depends

from ..api.deps import provided
from .service import AgencyService

AgencyServiceDep = Annotated[AgencyService, Depends(provided(AgencyService))]
