// Values serverless.yml takes from the project's TypeScript at package time
// (`${file(deploy/template-values.cjs):hostUserData}`); osls calls these functions.
require('tsx/cjs/api').register();
const { hostUserData } = require('./host-user-data.ts');

module.exports.hostUserData = async () => (await hostUserData()).userData;
