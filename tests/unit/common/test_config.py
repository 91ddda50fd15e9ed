import copy

import pytest

from stacks.config import (
    ENVIRONMENTS_KEY,
    ConfigError,
    environment_names,
    load_config,
    read_cdk_json_context,
)

ENVIRONMENTS = read_cdk_json_context()[ENVIRONMENTS_KEY]


def test_cdk_json_defines_dev_staging_and_prod() -> None:
    assert sorted(ENVIRONMENTS) == ["dev", "prod", "staging"]
    for name in ENVIRONMENTS:
        load_config(ENVIRONMENTS, name, env={})


def test_unknown_environment_lists_the_valid_ones() -> None:
    with pytest.raises(ConfigError, match="choose one of dev, prod, staging"):
        environment_names(ENVIRONMENTS, "qa")


def test_all_selects_every_environment_and_default_is_dev() -> None:
    assert environment_names(ENVIRONMENTS, "all") == ["dev", "prod", "staging"]
    assert environment_names(ENVIRONMENTS, None) == ["dev"]
    assert environment_names(ENVIRONMENTS, "dev,prod") == ["dev", "prod"]


def test_missing_key_is_named() -> None:
    broken = copy.deepcopy(ENVIRONMENTS)
    del broken["staging"]["textract_tps"]
    with pytest.raises(ConfigError, match=r"staging.*textract_tps"):
        load_config(broken, "staging", env={})


def test_destroy_is_refused_outside_dev() -> None:
    broken = copy.deepcopy(ENVIRONMENTS)
    broken["prod"]["destroy_on_removal"] = True
    with pytest.raises(ConfigError, match="dev only"):
        load_config(broken, "prod", env={})


def test_account_and_region_fall_back_to_cdk_defaults() -> None:
    environments = copy.deepcopy(ENVIRONMENTS)
    environments["dev"]["region"] = None
    config = load_config(
        environments, "dev", env={"CDK_DEFAULT_ACCOUNT": "123456789012", "CDK_DEFAULT_REGION": "us-west-2"}
    )
    assert (config.account, config.region) == ("123456789012", "us-west-2")


def test_config_is_frozen() -> None:
    config = load_config(ENVIRONMENTS, "prod", env={})
    with pytest.raises(ValueError, match="frozen"):
        config.textract_tps = 99  # type: ignore[misc]


def test_prod_retains_and_protects_data() -> None:
    prod = load_config(ENVIRONMENTS, "prod", env={})
    assert prod.deletion_protection and not prod.destroy_on_removal
    assert prod.stack_name("storage") == "receiptlake-prod-storage"


def test_every_environment_sets_its_alarm_thresholds() -> None:
    for name, raw in ENVIRONMENTS.items():
        assert "monitoring" in raw, name  # not left to the defaults
        config = load_config(ENVIRONMENTS, name, env={})
        assert config.monitoring.datapoints_to_alarm <= config.monitoring.evaluation_periods


def test_stuck_after_must_outlast_the_ingest_retries() -> None:
    broken = copy.deepcopy(ENVIRONMENTS)
    # 5 deliveries x 6 x 60 s function timeout = 30 min in flight: 30 is too soon.
    broken["prod"]["monitoring"]["stuck_after_minutes"] = 30
    with pytest.raises(ConfigError, match="stuck_after_minutes must exceed 30"):
        load_config(broken, "prod", env={})


def test_unknown_monitoring_setting_is_refused() -> None:
    broken = copy.deepcopy(ENVIRONMENTS)
    broken["dev"]["monitoring"]["dlq_treshold"] = 1
    with pytest.raises(ConfigError, match=r"dev.*monitoring\.dlq_treshold"):
        load_config(broken, "dev", env={})
