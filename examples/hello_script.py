"""A short training-like script for `runyard run submit-script`: logs a loss curve."""

import math
import time

from runyard import Run

run = Run.get_context()
for epoch in range(10):
    loss = math.exp(-epoch / 3)
    run.log("loss", loss)
    print(f"epoch {epoch}: loss {loss:.3f}", flush=True)
    time.sleep(0.1)
run.tag("quality", "great run")
