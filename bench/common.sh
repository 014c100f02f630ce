# Shared by the wrk benchmarks (bench/load.sh, bench/wide.sh, bench/alternate.sh); sourced.

# lua FILE QUERY [KEY]: writes a wrk script to FILE that POSTs QUERY (GraphQL text, with any
# `"` inside it already escaped for JSON) to /graphql, with the API key KEY when given.
lua() {
    {
        echo 'wrk.method = "POST"'
        echo 'wrk.headers["Content-Type"] = "application/json"'
        [ -n "${3:-}" ] && echo "wrk.headers[\"X-API-Key\"] = \"$3\""
        echo "wrk.body = [[{\"query\": \"$2\"}]]"
    } > "$1"
}
