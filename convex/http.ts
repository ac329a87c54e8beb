import { httpRouter } from "convex/server";
import { registerRoutes } from "../server/index";

const http = httpRouter();
registerRoutes(http);

export default http;
