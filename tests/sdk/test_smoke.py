from runyard import Experiment


def test_logged_scalar_comes_back(experiment: Experiment) -> None:
    with experiment.start_logging() as run:
        run.log("loss", 0.5)
    assert run.get_metrics() == {"loss": 0.5}
    assert run.get_status() == "Completed"
