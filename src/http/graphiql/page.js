// Starts GraphiQL with the settings the server wrote into the page (a JSON block, not an
// inline script, so the page's Content-Security-Policy keeps `script-src 'self'`).
// Queries and mutations go over HTTP to the endpoint with the Headers tab's headers;
// subscriptions go over WebSocket (graphql-ws, the `graphql-transport-ws` protocol) to
// ws(s)://<this origin><subscriptionPath>, with the API key in `connection_init`'s payload.
(function () {
  'use strict';

  var settings = JSON.parse(document.getElementById('sync-manager-graphiql').textContent);
  var http = GraphiQL.createFetcher({ url: settings.endpoint });
  var wsUrl =
    (window.location.protocol === 'https:' ? 'wss:' : 'ws:') +
    '//' + window.location.host + settings.subscriptionPath;
  var wsClients = {};

  // The key in the Headers tab: `X-API-Key`, or `Authorization: Bearer <key>`.
  function apiKey(headers) {
    var key = '';
    Object.keys(headers || {}).forEach(function (name) {
      var value = String(headers[name]).trim();
      if (name.toLowerCase() === 'x-api-key') {
        key = value;
      } else if (!key && name.toLowerCase() === 'authorization' && /^bearer\s+/i.test(value)) {
        key = value.replace(/^bearer\s+/i, '');
      }
    });
    return key;
  }

  // One lazy connection per key, so changing the key in the Headers tab takes effect.
  function wsClientFor(key) {
    if (!wsClients[key]) {
      wsClients[key] = graphqlWs.createClient({
        url: wsUrl,
        lazy: true,
        connectionParams: { 'X-API-Key': key },
      });
    }
    return wsClients[key];
  }

  // The type of each operation in `text`, in order: `{ name, type }`, read at the top level
  // (outside braces, strings and comments), so that it is the text being sent that decides.
  function operationsOf(text) {
    var operations = [];
    var depth = 0;
    // After `query`, `mutation`, `subscription` or `fragment`, the next `{` opens its body.
    var named = false;
    var re = /#[^\n]*|"""[\s\S]*?"""|"(?:\\.|[^"\\])*"|[{}]|(?<![$\w])(query|mutation|subscription|fragment)\b\s*([_A-Za-z][_0-9A-Za-z]*)?/g;
    var match;
    while ((match = re.exec(text || ''))) {
      var token = match[0];
      if (token === '{') {
        if (depth === 0 && !named) {
          operations.push({ name: null, type: 'query' });
        }
        named = false;
        depth += 1;
      } else if (token === '}') {
        depth -= 1;
      } else if (depth === 0 && match[1]) {
        named = true;
        if (match[1] !== 'fragment') {
          operations.push({ name: match[2] || null, type: match[1] });
        }
      }
    }
    return operations;
  }

  // GraphiQL's parsed document can lag behind the editor's text (it is parsed after a
  // pause), so the operation is read from the text itself.
  function isSubscription(params) {
    var operations = operationsOf(params.query);
    var chosen = operations.filter(function (op) {
      return !params.operationName || op.name === params.operationName;
    })[0];
    return Boolean(chosen) && chosen.type === 'subscription';
  }

  function fetcher(params, options) {
    if (!isSubscription(params)) {
      return http(params, options);
    }
    var client = wsClientFor(apiKey(options && options.headers));
    return {
      subscribe: function (sink) {
        var dispose = client.subscribe(params, {
          next: function (value) { sink.next(value); },
          error: function (error) {
            var message = error && error.message ? error.message
              : error && error.reason ? 'connection closed: ' + error.code + ' ' + error.reason
              : 'the subscription connection failed (' + wsUrl + ')';
            sink.next({ errors: [{ message: message }] });
            sink.complete();
          },
          complete: function () { sink.complete(); },
        });
        return { unsubscribe: dispose };
      },
    };
  }

  var root = ReactDOM.createRoot(document.getElementById('graphiql'));
  root.render(
    React.createElement(GraphiQL, {
      fetcher: fetcher,
      defaultQuery: settings.defaultQuery,
      defaultHeaders: settings.defaultHeaders,
      defaultEditorToolsVisibility: 'headers',
    })
  );
})();
