package wasmhost

// HasRateRule reports whether a middleware configuration (the dynamic
// configuration's map) has a rule with a rate condition, which the WASM
// plugin refuses: suites that run every golden case expect those configs
// to fail at load.
func HasRateRule(config map[string]any) bool {
	rules, _ := config["rules"].([]any)
	for _, r := range rules {
		if rule, ok := r.(map[string]any); ok {
			if rate, set := rule["rate"]; set && rate != "" {
				return true
			}
		}
	}
	return false
}
