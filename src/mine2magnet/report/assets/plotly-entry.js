// The plotly.js the report needs: core (scatter lines), bar and sankey traces. Built by build-plotly.sh.
'use strict';
var Plotly = require('plotly.js/lib/core');
Plotly.register([require('plotly.js/lib/bar'), require('plotly.js/lib/sankey')]);
module.exports = Plotly;
