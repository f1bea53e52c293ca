import { USER_PRINCIPALS } from '../auth/access-keys';
import type { ApiHandlerOptions, BerthFor } from '../aws-protocol/handler';
import { type RestRoute, createRestJsonApiHandler } from '../aws-protocol/rest-json';
import * as operations from './operations';

/** Scheduler's URIs, as its service model has them. */
export const SCHEDULER_ROUTES: readonly RestRoute[] = [
  { operation: 'CreateSchedule', method: 'POST', path: '/schedules/{Name}' },
  { operation: 'GetSchedule', method: 'GET', path: '/schedules/{Name}', query: { groupName: 'GroupName' } },
  { operation: 'UpdateSchedule', method: 'PUT', path: '/schedules/{Name}' },
  { operation: 'DeleteSchedule', method: 'DELETE', path: '/schedules/{Name}', query: { groupName: 'GroupName', clientToken: 'ClientToken' } },
  {
    operation: 'ListSchedules', method: 'GET', path: '/schedules',
    query: { ScheduleGroup: 'GroupName', MaxResults: 'MaxResults:int', NamePrefix: 'NamePrefix', NextToken: 'NextToken', State: 'State' },
  },
  { operation: 'CreateScheduleGroup', method: 'POST', path: '/schedule-groups/{Name}' },
  { operation: 'GetScheduleGroup', method: 'GET', path: '/schedule-groups/{Name}' },
  { operation: 'DeleteScheduleGroup', method: 'DELETE', path: '/schedule-groups/{Name}', query: { clientToken: 'ClientToken' } },
  { operation: 'ListScheduleGroups', method: 'GET', path: '/schedule-groups', query: { MaxResults: 'MaxResults:int', NamePrefix: 'NamePrefix', NextToken: 'NextToken' } },
];

/** EventBridge Scheduler's API: REST-JSON, signed for service `scheduler` by a user's key. */
export const createSchedulerApiHandler = (berth: BerthFor, options: Omit<ApiHandlerOptions, 'authenticate'> = {}) =>
  createRestJsonApiHandler(berth, { routes: SCHEDULER_ROUTES, operations, auth: { services: ['scheduler'], principal: USER_PRINCIPALS } }, options);
