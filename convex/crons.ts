import { cronJobs } from "convex/server";
import { registerCrons } from "../server/index";

const crons = cronJobs();
registerCrons(crons);

export default crons;
