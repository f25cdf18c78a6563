"""TOML presets shipped with the package (`sentiment-lab train --preset NAME`)."""
